package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gusage "github.com/graphgate/graphgate/proxy/usage"
)

// TestUsageExportAppliesReleaseRule seeds a store with a client app used by 20 people and
// one used by 3, and exports it: only the first appears, in CSV and JSON.
func TestUsageExportAppliesReleaseRule(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	store, err := gusage.OpenSQLite(ctx, filepath.Join(dir, gusage.SQLiteFile))
	if err != nil {
		t.Fatal(err)
	}
	day := time.Now().UTC().Truncate(24 * time.Hour)
	cell := func(app string, n int64) gusage.Cell {
		return gusage.Cell{Hour: day.Add(9 * time.Hour), Tenant: "t1", ClientApp: app, Operation: "GET /v1.0/me",
			StatusClass: "2xx", Cache: "hit", Requests: n}
	}
	err = store.Write(ctx, gusage.Batch{ID: "b1", Cells: []gusage.Cell{cell("chat-web", 40), cell("tiny-app", 3)},
		Users: []gusage.DailyUsers{{Day: day, Tenant: "t1", ClientApp: "chat-web", Users: 20},
			{Day: day, Tenant: "t1", ClientApp: "tiny-app", Users: 3}}})
	if err != nil {
		t.Fatal(err)
	}
	_ = store.Close()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--format", "csv"}, "t1," + day.Format(time.RFC3339) + ",chat-web,GET /v1.0/me,2xx,hit,40"},
		{[]string{"--format", "json"}, `"total": 40`},
		{[]string{"--format", "json", "--report", "active-users"}, `"users": 20`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			args := append([]string{"graphgate", "usage", "export", "--data-dir", dir}, tc.args...)
			if err := run(ctx, args, func(string) string { return "" }, &out, &errb); err != nil {
				t.Fatalf("%v: %s", err, errb.String())
			}
			if !strings.Contains(out.String(), tc.want) || strings.Contains(out.String(), "tiny-app") {
				t.Fatalf("export:\n%s\nwant %q and no tiny-app", out.String(), tc.want)
			}
		})
	}
	var out, errb bytes.Buffer
	err = run(ctx, []string{"graphgate", "usage", "export", "--data-dir", dir, "--config", "x.yaml"}, func(string) string { return "" }, &out, &errb)
	if exitCode(err) != 2 {
		t.Fatalf("--config with --data-dir: %v", err)
	}
}
