// Command probe drives the Go client for the cross-language test and the bench:
//
//	probe set PROVIDER SECRET   stores it; prints nothing
//	probe resolve PROVIDER      prints {"secret": ..., "source": ...}
//	probe remove PROVIDER       prints {"removed": true|false}
//	probe bench PROVIDER N      N warm resolves over one connection after a warm-up, the
//	                            client cache off (the round trip);
//	                            prints {"n": N, "p50_us": .., "p99_us": .., "mean_us": ..}
//	probe hot PROVIDER N        N resolves after a warm-up that makes the answer cached;
//	                            prints bench's figures and "asked": how many of the N
//	                            reached the daemon (its audit trail says; 0 when nothing
//	                            changed meanwhile)
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

const usage = "usage: probe set PROVIDER SECRET | resolve PROVIDER | remove PROVIDER | bench PROVIDER N | " +
	"hot PROVIDER N"

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
	case (command == "bench" || command == "hot") && len(args) == 3:
		count, err := strconv.Atoi(args[2])
		if err != nil || count < 1 {
			return nil, errors.New("N must be a positive whole number: " + usage)
		}
		if command == "hot" {
			return hot(provider, count)
		}
		return bench(provider, count)
	}
	return nil, errors.New(usage)
}

// bench times count round trips: resolves over the default client's one connection,
// with the client cache off, after a warm-up that opens it.
func bench(provider string, count int) (map[string]any, error) {
	os.Setenv("NXUSKIT_CLIENT_CACHE", "0") // before the first resolve: nothing is kept
	client := nxuskit.DefaultClient()
	ctx := context.Background()
	for i := 0; i < 50; i++ {
		if _, err := client.AuthResolve(ctx, provider, ""); err != nil {
			return nil, err
		}
	}
	return timed(provider, count)
}

// timed times count resolves with the default client.
func timed(provider string, count int) (map[string]any, error) {
	client := nxuskit.DefaultClient()
	ctx := context.Background()
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
	micro := func(d time.Duration) float64 { return float64(d.Nanoseconds()/10) / 100 }
	p99 := took[(count*99)/100]
	return map[string]any{"n": count, "p50_us": micro(took[count/2]), "p99_us": micro(p99),
		"mean_us": micro(total / time.Duration(count))}, nil
}

// hot times count resolves once one is answered from the client cache, and counts
// those of them that reached the daemon anyway.
func hot(provider string, count int) (any, error) {
	client := nxuskit.DefaultClient()
	ctx := context.Background()
	cached := false
	for i := 0; i < 200 && !cached; i++ { // the first answer after a write may carry no leave
		before, err := asked(ctx)
		if err == nil {
			_, err = client.AuthResolve(ctx, provider, "")
		}
		if err != nil {
			return nil, err
		}
		after, err := asked(ctx)
		if err != nil {
			return nil, err
		}
		cached = after == before
	}
	before, err := asked(ctx)
	if err != nil {
		return nil, err
	}
	figures, err := timed(provider, count)
	if err != nil {
		return nil, err
	}
	after, err := asked(ctx)
	figures["asked"] = after - before
	return figures, err
}

// asked is how many auth.resolve requests of this process the daemon's audit trail
// holds (the newest 10000 entries: the count is exact up to that many).
func asked(ctx context.Context) (int, error) {
	raw, err := nxuskit.DefaultClient().Call(ctx, "audit.query", map[string]any{"limit": 10000})
	if err != nil {
		return 0, err
	}
	var trail struct {
		Entries []struct {
			Method string `json:"method"`
			PID    *int   `json:"pid"`
		} `json:"entries"`
		Problem *string `json:"problem"`
	}
	if err := json.Unmarshal(raw, &trail); err != nil {
		return 0, err
	}
	if trail.Problem != nil {
		return 0, errors.New("the daemon keeps no audit trail now, so what reached it cannot be counted: " +
			*trail.Problem)
	}
	count := 0
	for _, entry := range trail.Entries {
		if entry.Method == "auth.resolve" && entry.PID != nil && *entry.PID == os.Getpid() {
			count++
		}
	}
	return count, nil
}
