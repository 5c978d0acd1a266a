module github.com/nxus-SYSTEMS/nxuskit-go

go 1.19
