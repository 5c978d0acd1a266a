package nxuskit_test

import (
	"fmt"

	nxuskit "github.com/nxus-SYSTEMS/nxuskit-go"
)

// The product page's example, as written there (compiled by go test, not run).
func Example() {
	// Check status
	status, err := nxuskit.AuthStatus("openai")
	// Store credential
	err = nxuskit.AuthSetCredential("openai", "sk-...")
	// Resolve credential
	resolution, err := nxuskit.AuthResolve("openai", "")
	fmt.Println(status.Status, resolution.Source, err)
}
