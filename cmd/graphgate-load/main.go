// Command graphgate-load compares, in one run on loopback, the requests per second of
// graphgate's cache-hit path (token validation, session check, rate limits, policy,
// cache, usage counting)
// with a bare net/http handler serving the same bytes.
//
//	go run ./cmd/graphgate-load -duration 10s -concurrency 32
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/graphgate/graphgate/graph/emulator"
	"github.com/graphgate/graphgate/proxy"
	"github.com/graphgate/graphgate/proxy/proxytest"
	"github.com/graphgate/graphgate/proxy/usage"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "graphgate-load:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("graphgate-load", flag.ContinueOnError)
	duration := fs.Duration("duration", 10*time.Second, "how long to load each server")
	conc := fs.Int("concurrency", 32, "concurrent client connections")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the gateway's run to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx := context.Background()
	emu, err := emulator.New(emulator.Options{})
	if err != nil {
		return err
	}
	defer emu.Close()
	gw, path, token, err := gateway(ctx, emu)
	if err != nil {
		return err
	}
	defer gw.Close()
	gwURL := gw.URL

	// Fetch the exact bytes the gateway answers, to serve them from the bare handler.
	body, header, err := fetch(gwURL+path, token)
	if err != nil {
		return err
	}
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range header {
			w.Header()[k] = v
		}
		_, _ = w.Write(body)
	})
	bareURL, stopBare, err := serve(bare)
	if err != nil {
		return err
	}
	defer stopBare()

	bareRPS, err := load(bareURL+path, token, *conc, *duration)
	if err != nil {
		return fmt.Errorf("bare: %w", err)
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	gwRPS, err := load(gwURL+path, token, *conc, *duration)
	pprof.StopCPUProfile()
	if err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	fmt.Fprintf(out, "response bytes:      %d\n", len(body))
	fmt.Fprintf(out, "bare net/http:       %.0f req/s\n", bareRPS)
	fmt.Fprintf(out, "graphgate hit path:  %.0f req/s\n", gwRPS)
	fmt.Fprintf(out, "ratio:               %.1f%% (target >= 70%%)\n", 100*gwRPS/bareRPS)
	return nil
}

// loadPolicy is the policy of the load run: one client app reading colleagues' profiles.
const loadPolicy = `clients:
  - app_id: "{{chat-web}}"
    name: chat-web
    purpose: Load test.
    operations: [me.read, users.read]
    fields: {self: [displayName, jobTitle, mail], others: [displayName, jobTitle, mail]}
`

// gateway starts the test gateway (proxytest) on the emulator, as production runs it:
// usage counting on (SQLite in a temporary data directory) and the rate limiter in the
// path (its cost is measured) but never refusing. It returns the gateway, the path of
// a cached colleague's profile and a token of a user of the first tenant.
func gateway(ctx context.Context, emu *emulator.Emulator) (*proxytest.Gateway, string, string, error) {
	dir, err := os.MkdirTemp("", "graphgate-load-")
	if err != nil {
		return nil, "", "", err
	}
	store, err := usage.OpenSQLite(ctx, filepath.Join(dir, usage.SQLiteFile))
	if err != nil {
		return nil, "", "", err
	}
	rec, err := usage.New(usage.Options{Store: store})
	if err != nil {
		return nil, "", "", err
	}
	g, err := proxytest.Start(proxytest.Options{Emulator: emu, PolicyTemplate: loadPolicy, CacheTTL: 10 * time.Minute,
		RateLimits: true, RateLimit: proxy.RateLimitConfig{PerUserRPS: 1e9, PerUserBurst: 1e9, PerClientRPS: 1e9, PerClientBurst: 1e9},
		Configure: func(c *proxy.Config) { c.Usage = rec }})
	if err != nil {
		return nil, "", "", err
	}
	t := g.Directory.Tenants[0]
	var chat string
	for _, c := range t.Clients {
		if c.Name == "chat-web" {
			chat = c.ID
		}
	}
	tok, err := emu.MintToken(emulator.TokenRequest{TenantID: t.ID, ClientID: chat, UserID: t.Users[0].ID, TTL: time.Hour})
	if err != nil {
		g.Close()
		return nil, "", "", err
	}
	return g, "/v1.0/users/" + t.Users[1].ID + "?$select=displayName,jobTitle,mail", tok, nil
}

func serve(h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	s := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = s.Close() }, nil
}

func fetch(url, token string) ([]byte, http.Header, error) {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("warm-up: status %d: %s", resp.StatusCode, bytes.TrimSpace(b))
	}
	return b, resp.Header.Clone(), err
}

// load sends requests from conc keep-alive connections for d and returns requests/s.
func load(url, token string, conc int, d time.Duration) (float64, error) {
	tr := &http.Transport{MaxIdleConnsPerHost: conc, MaxConnsPerHost: conc}
	client := &http.Client{Transport: tr}
	defer tr.CloseIdleConnections()
	var n atomic.Int64
	var firstErr atomic.Value
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	start := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodGet, url, nil)
			req.Header.Set("Authorization", "Bearer "+token)
			for time.Now().Before(deadline) {
				resp, err := client.Do(req)
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					firstErr.CompareAndSwap(nil, fmt.Errorf("status %d", resp.StatusCode))
					return
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	if err, ok := firstErr.Load().(error); ok && err != nil {
		return 0, err
	}
	if n.Load() == 0 {
		return 0, errors.New("no requests completed")
	}
	return float64(n.Load()) / time.Since(start).Seconds(), nil
}
