package proxy_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/graphgate/graphgate/graph/emulator"
	"github.com/graphgate/graphgate/proxy"
	"github.com/graphgate/graphgate/proxy/usage"
)

// usageEnv is a gateway with usage counting and the analysts' API on store.
type usageEnv struct {
	*env
	rec *usage.Recorder
}

func newUsageEnv(t *testing.T, store usage.Store) *usageEnv {
	t.Helper()
	rec, err := usage.New(usage.Options{Store: store, FlushInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = rec.Close(ctx)
	})
	e := newEnv(t, func(c *proxy.Config) {
		c.Usage = rec
		c.UsageReports = &usage.Reader{Store: store, K: 5}
	})
	return &usageEnv{env: e, rec: rec}
}

// driveTraffic sends requests from every enabled user of tenant 0 through chat-web (own
// profile, a colleague by UPN, a missing user), from three users through mobile, and
// from a few fabrikam users. It returns the fixture records of every user involved.
func (u *usageEnv) driveTraffic(t *testing.T) []emulator.User {
	t.Helper()
	users := u.enabledUsers(0)
	var people []emulator.User
	for i, usr := range users {
		tok := u.token(0, "chat-web", usr)
		colleague := users[(i+1)%len(users)]
		byUPN := "/v1.0/users" + keyInParentheses(colleague.UserPrincipalName) // every UPN, a leading $ included
		for _, path := range []string{"/v1.0/me", byUPN, "/v1.0/users/nobody@contoso.example"} {
			u.get(path, tok)
		}
		u.get("/v1.0/users/"+colleague.ID, tok) // second look-up: a cache hit
		full, ok := u.emu.User(u.tenant(0).ID, usr.ID)
		if !ok {
			t.Fatalf("fixture user %d missing", i)
		}
		people = append(people, full)
	}
	for _, usr := range users[:3] {
		if r := u.get("/v1.0/me", u.token(0, "mobile", usr)); r.Status != http.StatusOK {
			t.Fatalf("mobile /me: %d %s", r.Status, r.Body)
		}
	}
	for _, usr := range u.enabledUsers(1)[:6] {
		u.get("/v1.0/me", u.token(1, "chat-web", usr))
	}
	if err := u.rec.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	return people
}

// identifiers lists what must never be stored about people.
func identifiers(people []emulator.User) []string {
	ids := []string{"127.0.0.1", "Go-http-client", "nobody@contoso.example"}
	for _, p := range people {
		ids = append(ids, p.ID, strings.ToUpper(p.ID), strings.ReplaceAll(p.ID, "-", ""), p.UserPrincipalName,
			p.DisplayName, p.Mail, p.EmployeeID)
		if p.MobilePhone != "" {
			ids = append(ids, p.MobilePhone)
		}
		ids = append(ids, p.BusinessPhones...)
	}
	return ids
}

func assertNoIdentifiers(t *testing.T, where string, data []byte, ids []string) {
	t.Helper()
	if len(data) == 0 {
		return
	}
	for _, id := range ids {
		if id != "" && bytes.Contains(data, []byte(id)) {
			t.Errorf("%s holds an identifier (%d bytes long)", where, len(id))
		}
	}
}

func TestUsageSQLiteStoresNoIdentifiers(t *testing.T) {
	dir := t.TempDir()
	store, err := usage.OpenSQLite(context.Background(), filepath.Join(dir, usage.SQLiteFile))
	if err != nil {
		t.Fatal(err)
	}
	u := newUsageEnv(t, store)
	people := u.driveTraffic(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := u.rec.Close(ctx); err != nil {
		t.Fatal(err)
	}
	ids := identifiers(people)
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	var size int
	for _, f := range files { // usage.db, usage.db-wal, usage.db-shm
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		size += len(data)
		assertNoIdentifiers(t, filepath.Base(f), data, ids)
	}
	// The scan must be able to fail: the store does hold the route templates and app names.
	var all []byte
	for _, f := range files {
		b, _ := os.ReadFile(f)
		all = append(all, b...)
	}
	if !bytes.Contains(all, []byte("GET /v1.0/users/{id}")) || !bytes.Contains(all, []byte("chat-web")) {
		t.Fatalf("scanned %d bytes without finding the aggregates themselves", size)
	}
	assertAnalystAPI(t, u.env, store)
}

func TestUsagePostgresStoresNoIdentifiers(t *testing.T) {
	dsn := os.Getenv("GRAPHGATE_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("GRAPHGATE_TEST_POSTGRES not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "usage_proxy_test_" + hex.EncodeToString(b[:])
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = conn.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
		_ = conn.Close(context.Background())
	})
	store, err := usage.OpenPostgres(ctx, dsn, schema)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	u := newUsageEnv(t, store)
	people := u.driveTraffic(t)
	rows, err := conn.Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = $1`, schema)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(tables) < 4 {
		t.Fatalf("tables %v (%v)", tables, err)
	}
	var dump bytes.Buffer
	for _, tb := range tables {
		rows, err := conn.Query(ctx, `SELECT t::text FROM `+schema+`.`+tb+` t`)
		if err != nil {
			t.Fatal(err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		dump.WriteString(strings.Join(lines, "\n"))
	}
	assertNoIdentifiers(t, "postgres tables", dump.Bytes(), identifiers(people))
	if !bytes.Contains(dump.Bytes(), []byte("GET /v1.0/users/{id}")) {
		t.Fatal("the dump does not hold the aggregates themselves")
	}
	assertAnalystAPI(t, u.env, store)
}

// assertAnalystAPI checks roles, tenant isolation, suppression and formats.
func assertAnalystAPI(t *testing.T, e *env, store usage.Store) {
	t.Helper()
	var analyst, plain emulator.UserInfo
	for _, u := range e.enabledUsers(0) {
		switch {
		case len(u.Roles) == 1 && u.Roles[0] == proxy.RoleAnalyst && analyst.ID == "":
			analyst = u
		case len(u.Roles) == 0 && plain.ID == "":
			plain = u
		}
	}
	tok := e.token(0, "intranet-directory", analyst)
	t.Run("no role is 403", func(t *testing.T) {
		r := e.get("/usage/v1/requests", e.token(0, "chat-web", plain))
		if r.Status != http.StatusForbidden || errorCode(t, r) != "Authorization_RequestDenied" {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	})
	t.Run("no token is 401", func(t *testing.T) {
		if r := e.get("/usage/v1/requests", ""); r.Status != http.StatusUnauthorized {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	})
	t.Run("bad parameters are 400", func(t *testing.T) {
		for _, q := range []string{"from=yesterday", "granularity=week", "group_by=user_id", "format=xml"} {
			r := e.get("/usage/v1/requests?"+q, tok)
			if r.Status != http.StatusBadRequest || errorCode(t, r) != "BadRequest" {
				t.Errorf("%s: %d %s", q, r.Status, r.Body)
			}
		}
	})
	t.Run("small client app is withheld, totals too", func(t *testing.T) {
		cells, err := store.Cells(context.Background(), e.tenant(0).ID, time.Now().Add(-48*time.Hour), time.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		stored := false
		for _, c := range cells {
			stored = stored || c.ClientApp == "mobile"
		}
		if !stored {
			t.Fatal("mobile's requests were not counted at all: nothing to withhold")
		}
		r := e.get("/usage/v1/requests?group_by=client_app", tok)
		if r.Status != http.StatusOK {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		var rep usage.Report[usage.RequestRow]
		if err := json.Unmarshal(r.Body, &rep); err != nil {
			t.Fatal(err)
		}
		var sum int64
		for _, row := range rep.Rows {
			if row.ClientApp == "mobile" {
				t.Errorf("mobile (3 users) released: %+v", row)
			}
			sum += row.Requests
		}
		if len(rep.Rows) == 0 || rep.K != 5 || *rep.Total != sum {
			t.Fatalf("report %s", r.Body)
		}
		// Every chat-web request of the fixture users was counted, exactly.
		if want := int64(4 * len(e.enabledUsers(0))); sum != want {
			t.Errorf("chat-web requests %d, want %d", sum, want)
		}
		all := e.get("/usage/v1/requests", tok)
		var tot usage.Report[usage.RequestRow]
		_ = json.Unmarshal(all.Body, &tot)
		if *tot.Total != sum {
			t.Errorf("ungrouped total %d differs from the released rows' %d: it would reveal the withheld app", *tot.Total, sum)
		}
		if !strings.Contains(string(r.Body), `"group_by":["client_app"]`) || strings.Contains(string(r.Body), `"operation"`) {
			t.Errorf("rows carry dimensions not grouped by: %s", r.Body)
		}
	})
	t.Run("other tenant sees only its own", func(t *testing.T) {
		var fab emulator.UserInfo
		for _, u := range e.enabledUsers(1) {
			if len(u.Roles) == 1 && u.Roles[0] == proxy.RoleAnalyst {
				fab = u
				break
			}
		}
		r := e.get("/usage/v1/requests?group_by=client_app", e.token(1, "chat-web", fab))
		var rep usage.Report[usage.RequestRow]
		if err := json.Unmarshal(r.Body, &rep); err != nil || r.Status != http.StatusOK {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		// fabrikam had 6 chat-web users plus this analyst's call: its own figures only.
		if len(rep.Rows) != 1 || rep.Rows[0].Requests != 6 {
			t.Fatalf("fabrikam sees %s", r.Body)
		}
	})
	t.Run("csv", func(t *testing.T) {
		for _, r := range []response{
			e.get("/usage/v1/requests?group_by=client_app,operation&format=csv", tok),
			e.get("/usage/v1/requests?group_by=client_app,operation", tok, "Accept", "text/csv"),
		} {
			lines := strings.Split(strings.TrimSpace(string(r.Body)), "\n")
			if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") ||
				lines[0] != "time,client_app,operation,requests" || len(lines) < 2 || strings.Contains(string(r.Body), "mobile") {
				t.Fatalf("%d %q", r.Status, r.Body)
			}
		}
	})
	t.Run("other reports", func(t *testing.T) {
		for _, path := range []string{"/usage/v1/latency?group_by=operation", "/usage/v1/cache", "/usage/v1/active-users?group_by=client_app"} {
			r := e.get(path, tok)
			m := r.JSON(t)
			rows, _ := m["rows"].([]any)
			if r.Status != http.StatusOK || len(rows) == 0 {
				t.Errorf("%s: %d %s", path, r.Status, r.Body)
			}
			if strings.Contains(string(r.Body), "mobile") {
				t.Errorf("%s releases mobile: %s", path, r.Body)
			}
		}
	})
}
