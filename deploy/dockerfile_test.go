package deploy

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func filepathGlob(p string) ([]string, error) { return filepath.Glob(p) }

// stage is one build stage of a Dockerfile.
type stage struct {
	from  string
	lines []string
}

func parseDockerfile(t *testing.T, path string) []stage {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var stages []stage
	// Join continuation lines, drop comments.
	text := strings.ReplaceAll(string(raw), "\\\n", " ")
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		instr := strings.ToUpper(strings.Fields(line)[0])
		if instr == "FROM" {
			stages = append(stages, stage{from: strings.Fields(line)[1]})
			continue
		}
		if len(stages) == 0 {
			continue
		}
		stages[len(stages)-1].lines = append(stages[len(stages)-1].lines, line)
	}
	return stages
}

func TestDockerfile(t *testing.T) {
	stages := parseDockerfile(t, "Dockerfile")
	if len(stages) < 2 {
		t.Fatalf("%d stages, want a multi-stage build", len(stages))
	}
	final := stages[len(stages)-1]
	if !strings.HasPrefix(final.from, "gcr.io/distroless/static") && final.from != "scratch" {
		t.Errorf("final stage FROM %s, want distroless/static or scratch", final.from)
	}
	user := ""
	for _, l := range final.lines {
		if f := strings.Fields(l); strings.EqualFold(f[0], "USER") {
			user = f[1]
		}
	}
	if user == "" || user == "root" || user == "0" || strings.HasPrefix(user, "0:") || strings.HasPrefix(user, "root:") {
		t.Errorf("final stage USER %q, want a non-root user", user)
	}
	static := false
	for _, s := range stages[:len(stages)-1] {
		for _, l := range s.lines {
			if strings.HasPrefix(strings.ToUpper(l), "RUN") && strings.Contains(l, "CGO_ENABLED=0") && strings.Contains(l, "go build") {
				static = true
			}
		}
	}
	if !static {
		t.Error("no CGO_ENABLED=0 go build: the binary must be static")
	}
	secretEnv := regexp.MustCompile(`(?i)^(ENV|ARG)\s+\S*(secret|passw|token|key)\S*[= ]\s*\S+`)
	for _, s := range stages {
		for _, l := range s.lines {
			if secretEnv.MatchString(l) {
				t.Errorf("a secret is baked into the image: %q", l)
			}
			if strings.HasPrefix(strings.ToUpper(l), "COPY") && regexp.MustCompile(`\.(pem|key|env)\b`).MatchString(l) {
				t.Errorf("credential files are copied into the image: %q", l)
			}
		}
	}
}
