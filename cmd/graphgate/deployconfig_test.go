package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// fakeEnv returns a non-empty value for every variable, as a deployment's Secret would.
func fakeEnv(name string) string { return "value-of-" + name }

// TestDeployConfigsLoad loads the example configurations and the Kubernetes ConfigMap's
// config with graphgate's own loader: every key must be known and every ${VAR} resolved.
func TestDeployConfigsLoad(t *testing.T) {
	files, _ := filepath.Glob("../../deploy/graphgate*.yaml")
	paths := append([]string(nil), files...)
	cm := configMapConfig(t)
	paths = append(paths, cm)
	if len(files) == 0 {
		t.Fatal("no example configuration under deploy/")
	}
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			cfg, err := loadConfig(p, fakeEnv)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(filepath.Base(p), ".eu.") || p == cm {
				if !strings.HasPrefix(cfg.Privacy.HostingRegion, "EU") {
					t.Errorf("hosting region %q, want an EU region", cfg.Privacy.HostingRegion)
				}
				for _, tn := range cfg.Tenants {
					if tn.ClientSecret != "" && !strings.HasPrefix(tn.ClientSecret, "value-of-") {
						t.Errorf("tenant %s: the client secret is not taken from the environment", tn.Name)
					}
				}
			}
		})
	}
}

// configMapConfig writes the graphgate.yaml of deploy/kubernetes/configmap.yaml to a
// temporary file.
func configMapConfig(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile("../../deploy/kubernetes/configmap.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cm struct {
		Data map[string]string `yaml:"data"`
	}
	if err := yaml.Unmarshal(raw, &cm); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "configmap-graphgate.yaml")
	if err := os.WriteFile(p, []byte(cm.Data["graphgate.yaml"]), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
