package main

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/graphgate/graphgate/proxy/usage/dashboard/browsertest"
)

var curlUser = regexp.MustCompile(`-d username=(\S+) -d password=(\S+)`)

// TestDemoDashboard follows the demo's printed instructions for analysts: get a token
// with the printed curl (password grant), open /usage/ and paste it; the charts draw
// from the demo's seeded traffic.
func TestDemoDashboard(t *testing.T) {
	s := start(t, nil, "demo", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir())
	var intro demoIntro
	if err := json.Unmarshal([]byte(s.line(t)), &intro); err != nil {
		t.Fatalf("first stdout line is not JSON: %v", err)
	}
	var analyst, password string
	for seenHint := false; analyst == ""; {
		l := s.line(t)
		seenHint = seenHint || strings.HasPrefix(l, "Usage dashboard (analysts): open "+intro.GatewayURL+"/usage/")
		if m := curlUser.FindStringSubmatch(l); m != nil && seenHint {
			analyst, password = m[1], m[2]
		}
	}
	if strings.Contains(intro.GatewayURL, "token") {
		t.Fatal("a token in a URL")
	}
	waitReady(t, intro.GatewayURL)
	tok := passwordToken(t, intro, analyst, password)
	// The demo seeds its traffic in the background: wait until the API releases rows.
	deadline := time.Now().Add(20 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodGet, intro.GatewayURL+"/usage/v1/requests?group_by=client_app", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		status, body := getJSON(t, http.DefaultClient, req)
		rows, _ := body["rows"].([]any)
		if status == http.StatusOK && len(rows) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("usage API never released rows: %d %v", status, body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	res := browsertest.Open(t, intro.GatewayURL+"/usage/", tok)
	for _, c := range res.Charts {
		if c.Ready != "true" || c.Points == 0 {
			t.Errorf("chart %s not drawn: %+v", c.ID, c)
		}
	}
	if len(res.Charts) != 5 || res.ErrorText != "" || len(res.Console) > 0 {
		t.Errorf("charts %d, banner %q, console %q", len(res.Charts), res.ErrorText, res.Console)
	}
}
