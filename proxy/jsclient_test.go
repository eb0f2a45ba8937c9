package proxy_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/graphgate/graphgate/graph/emulator"
)

// jsResult is what client.mjs prints.
type jsResult struct {
	Me          map[string]any `json:"me"`
	User        map[string]any `json:"user"`
	UserHeaders struct {
		ClientRequestIDEchoed bool   `json:"clientRequestIdEchoed"`
		RequestID             bool   `json:"requestId"`
		Withheld              string `json:"withheld"`
	} `json:"userHeaders"`
	Search struct {
		FirstPageSize  int              `json:"firstPageSize"`
		Count          int              `json:"count"`
		NextLinkOrigin string           `json:"nextLinkOrigin"`
		Users          []map[string]any `json:"users"`
	} `json:"search"`
	ToolkitSearch struct {
		Count int              `json:"count"`
		Users []map[string]any `json:"users"`
	} `json:"toolkitSearch"`
	Photo        jsImage `json:"photo"`
	ToolkitBatch struct {
		User                 map[string]any `json:"user"`
		Photo                jsImage        `json:"photo"`
		PhotoMetaMatchesETag bool           `json:"photoMetaMatchesETag"`
	} `json:"toolkitBatch"`
	DependsBatch struct {
		Me        map[string]any `json:"me"`
		Photo     jsImage        `json:"photo"`
		Presence  map[string]any `json:"presence"`
		Colleague map[string]any `json:"colleague"`
		Presences struct {
			Value []map[string]any `json:"value"`
		} `json:"presences"`
	} `json:"dependsBatch"`
	FailedBatch struct {
		Missing     int    `json:"missing"`
		MissingCode string `json:"missingCode"`
		After       int    `json:"after"`
	} `json:"failedBatch"`
	Presence  map[string]any `json:"presence"`
	Presences struct {
		Value []map[string]any `json:"value"`
	} `json:"presences"`
	ProxyProvider struct {
		Origin        string         `json:"origin"`
		Me            map[string]any `json:"me"`
		BatchStatuses []int          `json:"batchStatuses"`
		Presence      map[string]any `json:"presence"`
	} `json:"proxyProvider"`
	PlainHTTP struct {
		StatusCode int    `json:"statusCode"`
		Code       string `json:"code"`
	} `json:"plainHTTP"`
	Error struct {
		StatusCode         int    `json:"statusCode"`
		Code               string `json:"code"`
		RequestID          bool   `json:"requestId"`
		Date               bool   `json:"date"`
		MessageMentionsUPN bool   `json:"messageMentionsUPN"`
	} `json:"error"`
}

type jsImage struct {
	Type          string `json:"type"`
	ContentType   string `json:"contentType"`
	SHA256        string `json:"sha256"`
	ETag          string `json:"etag"`
	DataURLPrefix string `json:"dataURLPrefix"`
}

// runJSClient starts a TLS listener for the gateway (the JavaScript client attaches tokens
// to https URLs only), runs client.mjs against it and decodes its output.
func runJSClient(t *testing.T, e *env, dir string, vars ...string) (jsResult, []byte) {
	t.Helper()
	ts := httptest.NewTLSServer(e.srv.Handler())
	t.Cleanup(ts.Close)
	ca := filepath.Join(t.TempDir(), "gateway-ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "client.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NODE_EXTRA_CA_CERTS="+ca, "GRAPHGATE_URL="+ts.URL, "GRAPHGATE_PROXY_URL="+e.url)
	cmd.Env = append(cmd.Env, vars...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node client.mjs: %v\nstderr:\n%s\nstdout:\n%s", err, stderr.Bytes(), stdout.Bytes())
	}
	var res jsResult
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("client.mjs output is not one JSON object: %v\n%s", err, stdout.Bytes())
	}
	if res.ProxyProvider.Origin != e.url {
		t.Errorf("the ProxyProvider-style client used %q, want the plain-http gateway %q", res.ProxyProvider.Origin, e.url)
	}
	if res.Search.NextLinkOrigin != ts.URL {
		t.Errorf("@odata.nextLink points at %q, want the gateway %q", res.Search.NextLinkOrigin, ts.URL)
	}
	return res, stdout.Bytes()
}

// photoUser returns an enabled colleague (not the caller) who has a photo.
func photoUser(t *testing.T, e *env, caller emulator.UserInfo) emulator.UserInfo {
	t.Helper()
	for _, u := range e.enabledUsers(0) {
		if full, ok := e.emu.User(e.tenant(0).ID, u.ID); ok && full.HasPhoto && u.ID != caller.ID {
			return u
		}
	}
	t.Fatal("no enabled user with a photo in the fixture")
	return emulator.UserInfo{}
}

// photoHash is the SHA-256 of a photo as the gateway serves it directly.
func photoHash(t *testing.T, e *env, tok, path string) string {
	t.Helper()
	r := e.get(path, tok)
	if r.Status != 200 {
		t.Fatalf("GET %s: %d %s", path, r.Status, r.Body)
	}
	sum := sha256.Sum256(r.Body)
	return hex.EncodeToString(sum[:])
}

// TestJavaScriptGraphClientThroughGateway runs the official Microsoft Graph JavaScript
// client (testdata/jsclient/client.mjs) against the gateway, unmodified: only the base URL,
// the custom host and the token differ from talking to Graph. It covers /me and users by
// UPN with $select, $search with PageIterator over @odata.nextLink, a binary photo, a
// Microsoft Graph Toolkit style $batch (base64 image items), BatchRequestContent with
// dependsOn and BatchResponseContent, beta presence and getPresencesByUserId, and errors as
// GraphError; and it checks that no field outside chat-web's policy reaches the client.
func TestJavaScriptGraphClientThroughGateway(t *testing.T) {
	dir := jsClient.install(t, "JavaScript Graph client", "client.mjs")
	e := newEnv(t)
	me := e.enabledUsers(0)[0]
	colleague := e.enabledUsers(0)[3]
	pu := photoUser(t, e, me)
	tok := e.token(0, "chat-web", me)
	unknownUPN := "nobody-" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")) + "@" + e.tenant(0).Domain
	res, raw := runJSClient(t, e, dir, "GRAPHGATE_TOKEN="+tok, "GRAPHGATE_COLLEAGUE_UPN="+colleague.UserPrincipalName,
		"GRAPHGATE_PHOTO_USER_ID="+pu.ID, "GRAPHGATE_UNKNOWN_UPN="+unknownUPN)

	cl, ok := e.pol.Client(e.clientID(0, "chat-web"))
	if !ok {
		t.Fatal("chat-web is not in the test policy")
	}
	self, others := cl.Visible(true), cl.Visible(false)
	t.Run("fields", func(t *testing.T) {
		onlyFields(t, "/me", res.Me, self, "displayName")
		onlyFields(t, "user by UPN", res.User, others, "displayName")
		for i, u := range res.Search.Users {
			onlyFields(t, fmt.Sprintf("search result %d", i), u, others, "displayName")
		}
		if len(res.ToolkitSearch.Users) == 0 || len(res.ToolkitSearch.Users) != res.ToolkitSearch.Count {
			t.Errorf("toolkit people search: %d users, @odata.count %d", len(res.ToolkitSearch.Users), res.ToolkitSearch.Count)
		}
		for i, u := range res.ToolkitSearch.Users {
			onlyFields(t, fmt.Sprintf("toolkit search result %d", i), u, others, "displayName", "mail")
		}
		onlyFields(t, "toolkit batch user", res.ToolkitBatch.User, others, "displayName")
		onlyFields(t, "batch /me", res.DependsBatch.Me, self, "displayName")
		onlyFields(t, "batch colleague", res.DependsBatch.Colleague, others, "displayName")
		noHiddenValues(t, e, raw, cl.Visible(true), me.ID)
	})
	t.Run("users", func(t *testing.T) {
		if res.Me["id"] != me.ID || res.User["id"] != colleague.ID {
			t.Errorf("/me id %v, user by UPN id %v", res.Me["id"], res.User["id"])
		}
		if !res.UserHeaders.ClientRequestIDEchoed || !res.UserHeaders.RequestID {
			t.Errorf("client-request-id echoed %t, request-id present %t", res.UserHeaders.ClientRequestIDEchoed, res.UserHeaders.RequestID)
		}
		if w := res.UserHeaders.Withheld; !strings.Contains(w, "mobilePhone") || !strings.Contains(w, "department") {
			t.Errorf("%s = %q, want mobilePhone and department listed", "Graphgate-Withheld-Fields", w)
		}
	})
	t.Run("search paging", func(t *testing.T) {
		if n := len(res.Search.Users); res.Search.FirstPageSize != 2 || n <= 2 || n != res.Search.Count {
			t.Fatalf("first page %d users, %d in all, @odata.count %d: PageIterator did not follow @odata.nextLink to the end",
				res.Search.FirstPageSize, n, res.Search.Count)
		}
		seen := map[any]bool{}
		for _, u := range res.Search.Users {
			if seen[u["id"]] {
				t.Errorf("user %v listed twice across pages", u["id"])
			}
			seen[u["id"]] = true
			if full, ok := e.emu.User(e.tenant(0).ID, u["id"].(string)); !ok || !full.AccountEnabled {
				t.Errorf("search listed %v: unknown or deactivated", u["id"])
			}
			name, _ := u["displayName"].(string)
			if !slices.ContainsFunc(strings.Fields(strings.ToLower(name)), func(w string) bool { return strings.HasPrefix(w, "a") }) {
				t.Errorf("search for displayName:a found %q", name)
			}
		}
	})
	t.Run("photos", func(t *testing.T) {
		small := photoHash(t, e, tok, "/v1.0/users/"+pu.ID+"/photos/48x48/$value")
		full := photoHash(t, e, tok, "/v1.0/users/"+pu.ID+"/photo/$value")
		if res.Photo.SHA256 != small || !strings.HasPrefix(res.Photo.Type, "image/") {
			t.Errorf("photo as Blob: type %q, hash differs from the direct response: %t", res.Photo.Type, res.Photo.SHA256 != small)
		}
		tp := res.ToolkitBatch.Photo
		if tp.SHA256 != full || !strings.HasPrefix(tp.ContentType, "image/") || tp.ETag == "" || !strings.HasPrefix(tp.DataURLPrefix, "data:image/") {
			t.Errorf("toolkit batch photo: %+v (hash matches %t)", tp, tp.SHA256 == full)
		}
		if !res.ToolkitBatch.PhotoMetaMatchesETag {
			t.Error("the batch photo's ETag differs from /photo's @odata.mediaEtag: the toolkit's photo cache never revalidates")
		}
		if dp := res.DependsBatch.Photo; dp.SHA256 != small || !strings.HasPrefix(dp.ContentType, "image/") {
			t.Errorf("batch photo via BatchResponseContent: %+v (hash matches %t)", dp, dp.SHA256 == small)
		}
	})
	t.Run("batch dependsOn", func(t *testing.T) {
		if p := res.DependsBatch.Presence; p["id"] != pu.ID || p["availability"] == nil {
			t.Errorf("batch presence: %v", p)
		}
		if v := res.DependsBatch.Presences.Value; len(v) != 1 || v[0]["id"] != pu.ID {
			t.Errorf("batch POST getPresencesByUserId: %v", v)
		}
		f := res.FailedBatch
		if f.Missing != 404 || f.MissingCode != "Request_ResourceNotFound" || f.After != 424 {
			t.Errorf("failed batch: missing %d %q, dependent %d; want 404 Request_ResourceNotFound, 424", f.Missing, f.MissingCode, f.After)
		}
	})
	t.Run("presence", func(t *testing.T) {
		presenceKeys := []string{"@odata.context", "activity", "availability", "id"}
		onlyKeys(t, "beta presence", res.Presence, presenceKeys)
		if res.Presence["id"] != pu.ID || res.Presence["availability"] == nil {
			t.Errorf("beta presence: %v", res.Presence)
		}
		ids := []string{}
		for _, p := range res.Presences.Value {
			onlyKeys(t, "getPresencesByUserId item", p, presenceKeys)
			ids = append(ids, p["id"].(string))
		}
		slices.Sort(ids)
		want := []string{pu.ID, me.ID}
		slices.Sort(want)
		if !slices.Equal(ids, want) {
			t.Errorf("getPresencesByUserId answered for %v, want %v", ids, want)
		}
	})
	t.Run("ProxyProvider", func(t *testing.T) {
		pp := res.ProxyProvider
		onlyFields(t, "ProxyProvider /me", pp.Me, self, "displayName")
		if pp.Me["id"] != me.ID || !slices.Equal(pp.BatchStatuses, []int{200, 200}) || pp.Presence["id"] != pu.ID {
			t.Errorf("ProxyProvider-style client: /me %v, batch %v, presence %v", pp.Me["id"], pp.BatchStatuses, pp.Presence)
		}
		// Client.init's authentication handler sends tokens over https only (README).
		if res.PlainHTTP.StatusCode != 401 || res.PlainHTTP.Code != "InvalidAuthenticationToken" {
			t.Errorf("Client.init over plain http: %+v, want 401 InvalidAuthenticationToken", res.PlainHTTP)
		}
	})
	t.Run("GraphError", func(t *testing.T) {
		er := res.Error
		if er.StatusCode != 404 || er.Code != "Request_ResourceNotFound" || !er.RequestID || !er.Date {
			t.Errorf("unknown user: %+v", er)
		}
		if er.MessageMentionsUPN {
			t.Error("the error message repeats the UPN")
		}
	})
}

// onlyFields fails unless obj holds only fields of allowed (plus "id" and OData
// annotations) and holds every field of must.
func onlyFields(t *testing.T, what string, obj map[string]any, allowed []string, must ...string) {
	t.Helper()
	if obj == nil {
		t.Errorf("%s: missing", what)
		return
	}
	for k := range obj {
		if k != "id" && !strings.HasPrefix(k, "@odata.") && !slices.Contains(allowed, k) {
			t.Errorf("%s: field %q is outside the client app's policy %v", what, k, allowed)
		}
	}
	for _, k := range must {
		if _, ok := obj[k]; !ok {
			t.Errorf("%s: allowed field %q is missing: %v", what, k, obj)
		}
	}
}

// onlyKeys fails unless obj's keys are a subset of allowed.
func onlyKeys(t *testing.T, what string, obj map[string]any, allowed []string) {
	t.Helper()
	for k := range obj {
		if !slices.Contains(allowed, k) {
			t.Errorf("%s: unexpected field %q", what, k)
		}
	}
}

// noHiddenValues fails if the client's output holds a value of a field that chat-web may
// see of nobody (here: phones and department), for any user of the tenant.
func noHiddenValues(t *testing.T, e *env, raw []byte, selfFields []string, selfID string) {
	t.Helper()
	out := string(raw) // exact case: hashes in the output are lower-case hex, employee ids are not
	for _, ui := range e.tenant(0).Users {
		u, _ := e.emu.User(e.tenant(0).ID, ui.ID)
		hidden := map[string][]string{"mobilePhone": {u.MobilePhone}, "businessPhones": u.BusinessPhones, "employeeId": {u.EmployeeID}}
		for field, vals := range hidden {
			if ui.ID == selfID && slices.Contains(selfFields, field) {
				continue
			}
			for _, v := range vals {
				if len(v) >= 4 && strings.Contains(out, v) {
					t.Errorf("the client received %s of a user, which chat-web may not see", field)
				}
			}
		}
	}
}
