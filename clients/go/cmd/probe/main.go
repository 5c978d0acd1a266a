// Command probe drives the Go client for the cross-language test and the bench:
//
//	probe set PROVIDER SECRET   stores it; prints nothing
//	probe resolve PROVIDER      prints {"secret": ..., "source": ...}
//	probe remove PROVIDER       prints {"removed": true|false}
//	probe bench PROVIDER N      N warm resolves over one connection after a warm-up;
//	                            prints {"n": N, "p50_us": .., "p99_us": .., "mean_us": ..}
//
// It reads the environment any client reads (NXUSKIT_SOCKET, XDG_RUNTIME_DIR, ...).
// Errors: one line on stderr, "probe: <kind>: <message>", and exit status 1.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"time"

	nxuskit "github.com/nxus-SYSTEMS/nxuskit-go"
)

const usage = "usage: probe set PROVIDER SECRET | resolve PROVIDER | remove PROVIDER | bench PROVIDER N"

func main() {
	output, err := run(os.Args[1:])
	if err != nil {
		kind := "error"
		var e *nxuskit.Error
		if errors.As(err, &e) {
			kind = string(e.Kind)
		}
		fmt.Fprintf(os.Stderr, "probe: %s: %s\n", kind, err)
		os.Exit(1)
	}
	if output != nil {
		line, _ := json.Marshal(output)
		fmt.Println(string(line))
	}
}

func run(args []string) (any, error) {
	if len(args) < 2 {
		return nil, errors.New(usage)
	}
	command, provider := args[0], args[1]
	switch {
	case command == "set" && len(args) == 3:
		return nil, nxuskit.AuthSetCredential(provider, args[2])
	case command == "resolve" && len(args) == 2:
		resolution, err := nxuskit.AuthResolve(provider, "")
		if err != nil {
			return nil, err
		}
		shown := map[string]any{"secret": nil, "source": nil}
		if resolution.Source != "" {
			shown["secret"], shown["source"] = resolution.Secret, string(resolution.Source)
		}
		return shown, nil
	case command == "remove" && len(args) == 2:
		removed, err := nxuskit.AuthRemoveCredential(provider)
		if err != nil {
			return nil, err
		}
		return map[string]any{"removed": removed}, nil
	case command == "bench" && len(args) == 3:
		count, err := strconv.Atoi(args[2])
		if err != nil || count < 1 {
			return nil, errors.New("N must be a positive whole number: " + usage)
		}
		return bench(provider, count)
	}
	return nil, errors.New(usage)
}

// bench times count resolves over the default client's one connection, after a warm-up
// that opens it.
func bench(provider string, count int) (any, error) {
	client := nxuskit.DefaultClient()
	ctx := context.Background()
	for i := 0; i < 50; i++ {
		if _, err := client.AuthResolve(ctx, provider, ""); err != nil {
			return nil, err
		}
	}
	took := make([]time.Duration, count)
	var total time.Duration
	for i := range took {
		start := time.Now()
		if _, err := client.AuthResolve(ctx, provider, ""); err != nil {
			return nil, err
		}
		took[i] = time.Since(start)
		total += took[i]
	}
	sort.Slice(took, func(a, b int) bool { return took[a] < took[b] })
	micro := func(d time.Duration) float64 { return float64(d.Nanoseconds()/100) / 10 }
	p99 := took[(count*99)/100]
	return map[string]any{"n": count, "p50_us": micro(took[count/2]), "p99_us": micro(p99),
		"mean_us": micro(total / time.Duration(count))}, nil
}
