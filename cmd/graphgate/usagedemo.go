package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/graphgate/graphgate/graph/emulator"
	gusage "github.com/graphgate/graphgate/proxy/usage"
)

// writeExport writes an export report as CSV (with a tenant column) or JSON.
func writeExport[R gusage.CSVRow](env cmdEnv, rep gusage.Report[R], format string) error {
	if format == "csv" {
		return gusage.WriteCSV(env.stdout, rep, true)
	}
	enc := json.NewEncoder(env.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// demoUsers is how many demo users per client app the seeded traffic uses: more than
// the release threshold, so a new user of the demo sees charts at once.
const demoUsers = 12

// seedDemoUsage drives the demo gateway itself with real requests from demo users of the
// first tenant through every client app, then flushes, so the usage API and dashboard
// show real (released) figures right away. It is real traffic through the gateway, not
// invented rows.
func seedDemoUsage(ctx context.Context, emu *emulator.Emulator, gwURL string, ur *usageRuntime, log *slog.Logger) {
	if ur == nil {
		return
	}
	dir := emu.Directory()
	t := dir.Tenants[0]
	var users []emulator.UserInfo
	for _, u := range t.Users {
		if u.AccountEnabled {
			users = append(users, u)
		}
	}
	hc := &http.Client{Timeout: 10 * time.Second}
	sent := 0
	for ci, c := range t.Clients {
		for i := range min(demoUsers, len(users)) {
			u := users[(i+ci*5)%len(users)]
			tok, err := emu.MintToken(emulator.TokenRequest{TenantID: t.ID, ClientID: c.ID, UserID: u.ID})
			if err != nil {
				log.Warn("demo usage: token", "error", err)
				return
			}
			colleague := users[(i*7+3)%len(users)]
			paths := []string{"/v1.0/me", "/v1.0/users/" + colleague.ID, "/v1.0/users/" + colleague.ID,
				"/v1.0/me/people?$top=6", "/v1.0/users/" + colleague.ID + "/photo/$value", "/v1.0/users/" + colleague.ID + "/manager",
				"/v1.0/users/" + colleague.ID + "/presence", "/v1.0/users?$top=5", "/v1.0/users/nobody@" + t.Domain}
			for _, p := range paths[:3+(i%len(paths[3:]))+1] {
				if ctx.Err() != nil {
					return
				}
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, gwURL+p, nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				if resp, err := hc.Do(req); err == nil {
					_ = resp.Body.Close()
					sent++
				}
			}
		}
	}
	fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := ur.rec.Flush(fctx); err != nil {
		log.Warn("demo usage: flush", "error", err)
	}
	log.Info("demo usage: seeded synthetic traffic through the gateway", "requests", sent,
		"usage_api", gwURL+"/usage/v1/requests?"+url.Values{"group_by": {"client_app"}}.Encode())
}
