package main

import (
	"os"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/graphgate/graphgate/graph/emulator"
)

// TestShutdownConfig checks the shutdown section's validation and the defaults the API
// server's stop plan applies (gatewayStopPlan).
func TestShutdownConfig(t *testing.T) {
	dir := t.TempDir()
	base := "app_id: 11111111-2222-3333-4444-555555555555\npolicy_file: p.yaml\ntenants:\n  - {id: 11111111-2222-3333-4444-555555555555, client_secret: x}\n"
	cases := []struct {
		name, text   string
		drain, grace time.Duration
		err          string
	}{
		{"defaults", "", 5 * time.Second, 25 * time.Second, ""},
		{"grace follows the request deadline", "upstream: {timeout: 3s}\n", 5 * time.Second, 11 * time.Second, ""},
		{"no drain", "shutdown: {drain: 0s}\n", 0, 25 * time.Second, ""},
		{"set", "shutdown: {drain: 10s, grace: 40s}\n", 10 * time.Second, 40 * time.Second, ""},
		{"negative drain", "shutdown: {drain: -1s}\n", 0, 0, "must not be negative"},
		{"negative grace", "shutdown: {grace: -1s}\n", 0, 0, "must not be negative"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := loadConfig(write(t, dir, "c.yaml", base+tc.text), func(string) string { return "" })
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want it to mention %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if plan := gatewayStopPlan(cfg, nil); plan.drainFor != tc.drain || plan.grace != tc.grace {
				t.Errorf("drain %s grace %s, want %s and %s", plan.drainFor, plan.grace, tc.drain, tc.grace)
			}
		})
	}
	demo := demoConfig(emulator.DirectoryInfo{Tenants: []emulator.TenantInfo{{ID: "t", GatewayAppID: "a"}}}, "https://emulator", t.TempDir(), "info")
	if plan := gatewayStopPlan(demo, nil); plan.drainFor != 0 || plan.grace != 25*time.Second {
		t.Errorf("demo: drain %s grace %s, want no drain and the default grace", plan.drainFor, plan.grace)
	}
}

// TestDeployedGraceCoversShutdown: the orchestrators' grace periods (Kubernetes
// terminationGracePeriodSeconds, compose stop_grace_period) are longer than the
// deployed configuration's shutdown.drain + shutdown.grace plus the last usage flush
// (usageFlushTimeout), or the process is killed mid-shutdown and the requests in flight
// are cut, or the last usage counts lost, after all.
func TestDeployedGraceCoversShutdown(t *testing.T) {
	check := func(where string, cfgPath string, orchestrator time.Duration) {
		cfg, err := loadConfig(cfgPath, fakeEnv)
		if err != nil {
			t.Fatal(err)
		}
		plan := gatewayStopPlan(cfg, nil)
		need := plan.drainFor + plan.grace + usageFlushTimeout
		t.Logf("%s: orchestrator grace %s, shutdown.drain %s + shutdown.grace %s + usage flush %s = %s",
			where, orchestrator, plan.drainFor, plan.grace, usageFlushTimeout, need)
		if orchestrator <= need {
			t.Errorf("%s: the orchestrator's grace %s is not longer than shutdown.drain + shutdown.grace + usage flush = %s",
				where, orchestrator, need)
		}
	}
	var dep struct {
		Spec struct {
			Template struct {
				Spec struct {
					TerminationGracePeriodSeconds int `yaml:"terminationGracePeriodSeconds"`
				} `yaml:"spec"`
			} `yaml:"template"`
		} `yaml:"spec"`
	}
	readYAML(t, "../../deploy/kubernetes/deployment.yaml", &dep)
	check("kubernetes", configMapConfig(t), time.Duration(dep.Spec.Template.Spec.TerminationGracePeriodSeconds)*time.Second)

	var compose struct {
		Graphgate struct {
			StopGracePeriod string `yaml:"stop_grace_period"`
		} `yaml:"x-graphgate"`
	}
	readYAML(t, "../../deploy/compose.yaml", &compose)
	d, err := time.ParseDuration(compose.Graphgate.StopGracePeriod)
	if err != nil {
		t.Fatalf("compose: x-graphgate.stop_grace_period %q: %v (docker's default is 10s)", compose.Graphgate.StopGracePeriod, err)
	}
	check("compose", "../../deploy/graphgate.example.yaml", d)
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
