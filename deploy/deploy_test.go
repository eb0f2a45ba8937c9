package deploy

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/graphgate/graphgate/policy"
)

func TestDeploymentsAreLockedDown(t *testing.T) {
	objs := loadObjects(t)
	deps := byKind(objs, "Deployment")
	if len(deps) < 2 {
		t.Fatalf("%d Deployments, want the gateway and Redis", len(deps))
	}
	for _, d := range deps {
		t.Run(d.Name, func(t *testing.T) {
			pod := get(d.Raw, "spec", "template", "spec")
			if get(pod, "automountServiceAccountToken") != false {
				t.Error("automountServiceAccountToken must be false")
			}
			if !labelsMatch(get(d.Raw, "spec", "selector", "matchLabels"), get(d.Raw, "spec", "template", "metadata", "labels")) {
				t.Error("the selector does not match the pod labels")
			}
			psc := get(pod, "securityContext")
			if get(psc, "runAsNonRoot") != true || get(psc, "runAsUser") == 0 {
				t.Errorf("pod securityContext must run as non-root: %v", psc)
			}
			if str(get(psc, "seccompProfile", "type")) != "RuntimeDefault" {
				t.Error("pod seccompProfile must be RuntimeDefault")
			}
			containers := list(get(pod, "containers"))
			if len(containers) == 0 {
				t.Fatal("no containers")
			}
			for _, c := range containers {
				checkContainer(t, c, volumeNames(pod))
			}
		})
	}
}

func checkContainer(t *testing.T, c any, volumes map[string]bool) {
	t.Helper()
	name := str(get(c, "name"))
	sc := get(c, "securityContext")
	checks := []struct {
		what string
		ok   bool
	}{
		{"runAsNonRoot", get(sc, "runAsNonRoot") == true},
		{"readOnlyRootFilesystem", get(sc, "readOnlyRootFilesystem") == true},
		{"allowPrivilegeEscalation false", get(sc, "allowPrivilegeEscalation") == false},
		{"not privileged", get(sc, "privileged") != true},
		{"capabilities drop ALL", containsAll(list(get(sc, "capabilities", "drop")))},
		{"no added capabilities", len(list(get(sc, "capabilities", "add"))) == 0},
		{"seccomp RuntimeDefault", str(get(sc, "seccompProfile", "type")) == "RuntimeDefault"},
		{"cpu request", get(c, "resources", "requests", "cpu") != nil},
		{"memory request", get(c, "resources", "requests", "memory") != nil},
		{"cpu limit", get(c, "resources", "limits", "cpu") != nil},
		{"memory limit", get(c, "resources", "limits", "memory") != nil},
		{"readiness probe", get(c, "readinessProbe") != nil},
		{"liveness probe", get(c, "livenessProbe") != nil},
		{"an image", str(get(c, "image")) != ""},
	}
	for _, ck := range checks {
		if !ck.ok {
			t.Errorf("container %s: %s", name, ck.what)
		}
	}
	for _, m := range list(get(c, "volumeMounts")) {
		if !volumes[str(get(m, "name"))] {
			t.Errorf("container %s mounts undeclared volume %q", name, get(m, "name"))
		}
	}
	for _, e := range list(get(c, "env")) {
		n := str(get(e, "name"))
		if secretEnv.MatchString(n) && get(e, "valueFrom", "secretKeyRef") == nil {
			t.Errorf("container %s: env %s must come from a Secret (secretKeyRef)", name, n)
		}
	}
}

func volumeNames(pod any) map[string]bool {
	out := map[string]bool{}
	for _, v := range list(get(pod, "volumes")) {
		out[str(get(v, "name"))] = true
	}
	return out
}

func containsAll(l []any) bool {
	for _, v := range l {
		if v == "ALL" {
			return true
		}
	}
	return false
}

func gateway(t *testing.T, objs []object) object {
	t.Helper()
	for _, d := range byKind(objs, "Deployment") {
		if d.Name == "graphgate" {
			return d
		}
	}
	t.Fatal("no graphgate Deployment")
	return object{}
}

func TestGatewayDeployment(t *testing.T) {
	objs := loadObjects(t)
	d := gateway(t, objs)
	if n, _ := get(d.Raw, "spec", "replicas").(int); n < 3 {
		t.Errorf("replicas %v, want at least 3", get(d.Raw, "spec", "replicas"))
	}
	pod := get(d.Raw, "spec", "template", "spec")
	c := get(pod, "containers", 0)
	if p := str(get(c, "readinessProbe", "httpGet", "path")); p != "/readyz" {
		t.Errorf("readiness probe %q, want /readyz", p)
	}
	if p := str(get(c, "livenessProbe", "httpGet", "path")); p != "/healthz" {
		t.Errorf("liveness probe %q, want /healthz", p)
	}
	mounts := map[string]string{}
	for _, m := range list(get(c, "volumeMounts")) {
		mounts[str(get(m, "mountPath"))] = str(get(m, "name"))
	}
	if mounts["/tmp"] == "" {
		t.Error("no writable /tmp (emptyDir) for a read-only root filesystem")
	}
	for _, v := range list(get(pod, "volumes")) {
		if str(get(v, "name")) == mounts["/tmp"] && get(v, "emptyDir") == nil {
			t.Error("/tmp must be an emptyDir")
		}
	}
	t.Run("a Service selects the gateway pods", func(t *testing.T) {
		found := false
		for _, s := range byKind(objs, "Service") {
			found = found || labelsMatch(get(s.Raw, "spec", "selector"), get(d.Raw, "spec", "template", "metadata", "labels"))
		}
		if !found {
			t.Error("no Service selects the gateway pods")
		}
	})
	t.Run("a PodDisruptionBudget keeps the gateway up", func(t *testing.T) {
		replicas, _ := get(d.Raw, "spec", "replicas").(int)
		found := false
		for _, p := range byKind(objs, "PodDisruptionBudget") {
			min, _ := get(p.Raw, "spec", "minAvailable").(int)
			if labelsMatch(get(p.Raw, "spec", "selector", "matchLabels"), get(d.Raw, "spec", "template", "metadata", "labels")) &&
				min >= 1 && min < replicas {
				found = true
			}
		}
		if !found {
			t.Error("no PodDisruptionBudget with 1 <= minAvailable < replicas selects the gateway")
		}
	})
	t.Run("Redis has a Deployment and a Service", func(t *testing.T) {
		var dep, svc bool
		for _, o := range objs {
			dep = dep || o.Kind == "Deployment" && strings.Contains(o.Name, "redis")
			svc = svc || o.Kind == "Service" && strings.Contains(o.Name, "redis")
		}
		if !dep || !svc {
			t.Errorf("redis Deployment %t, Service %t", dep, svc)
		}
	})
	t.Run("every ${VAR} of the config is provided by the Deployment", func(t *testing.T) {
		env := map[string]bool{}
		for _, e := range list(get(c, "env")) {
			env[str(get(e, "name"))] = true
		}
		for _, cm := range byKind(objs, "ConfigMap") {
			for key, v := range cm.Raw["data"].(map[string]any) {
				for _, m := range envRef.FindAllStringSubmatch(str(v), -1) {
					if !env[m[1]] {
						t.Errorf("ConfigMap %s/%s references ${%s}, which the Deployment does not set", cm.Name, key, m[1])
					}
				}
			}
		}
	})
}

func TestConfigMapPolicyParses(t *testing.T) {
	for _, cm := range byKind(loadObjects(t), "ConfigMap") {
		data, _ := cm.Raw["data"].(map[string]any)
		if raw := str(data["policy.yaml"]); raw != "" {
			if _, err := policy.Parse([]byte(raw)); err != nil {
				t.Errorf("ConfigMap %s: policy.yaml: %v", cm.Name, err)
			}
			return
		}
	}
	t.Fatal("no ConfigMap holds policy.yaml")
}

var (
	envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)
	// secretName matches keys and variable names that hold credentials: the credential
	// noun ends the name ("client_secret", "key", "REDIS_PASSWORD"), so that
	// "max_token_lifetime" is not one. URLs are checked for literal passwords instead.
	secretName = regexp.MustCompile(`(?i)(secret|passw(or)?d|passwd|token|api_?key|private_?key|credentials?|(^|_)key|dsn)$`)
	// secretEnv also covers variables holding whole connection URLs.
	secretEnv = regexp.MustCompile(`(?i)(secret|passw(or)?d|passwd|token|api_?key|private_?key|credentials?|(^|_)key|dsn|(postgres|database|redis)_url)$`)
	// urlPassword matches a URL with a password in its user info.
	urlPassword = regexp.MustCompile(`[a-z][a-z0-9+.-]*://[^/\s:@]*:([^@\s/]+)@`)
)

func TestNoSecretsInPlainConfig(t *testing.T) {
	type doc struct {
		where string
		text  string
	}
	var docs []doc
	for _, cm := range byKind(loadObjects(t), "ConfigMap") {
		docs = append(docs, doc{cm.File + " (ConfigMap " + cm.Name + ")", mustYAML(t, cm.Document)})
		data, _ := cm.Raw["data"].(map[string]any)
		for k, v := range data {
			docs = append(docs, doc{fmt.Sprintf("%s (ConfigMap %s, %s)", cm.File, cm.Name, k), str(v)})
		}
	}
	examples, _ := filepathGlob("graphgate*.yaml")
	if len(examples) == 0 {
		t.Fatal("no example configuration (graphgate*.yaml)")
	}
	for _, f := range examples {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, doc{f, string(raw)})
	}
	for _, d := range docs {
		var root yaml.Node
		if err := yaml.Unmarshal([]byte(d.text), &root); err != nil {
			continue // not YAML (e.g. a plain value)
		}
		for _, leak := range plainSecrets(&root, "") {
			t.Errorf("%s: %s", d.where, leak)
		}
	}
}

// plainSecrets lists credential-looking keys with literal values, and URLs with literal
// passwords, in a YAML tree. ${VAR} references and empty values are fine.
func plainSecrets(n *yaml.Node, path string) []string {
	var out []string
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			out = append(out, plainSecrets(c, path)...)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := path + "." + k.Value
			if v.Kind == yaml.ScalarNode && secretName.MatchString(k.Value) && !isFileKey(k.Value) && literal(v.Value) {
				out = append(out, fmt.Sprintf("%s holds a literal credential (line %d); use ${ENV}", p, v.Line))
			}
			out = append(out, plainSecrets(v, p)...)
		}
	case yaml.ScalarNode:
		if m := urlPassword.FindStringSubmatch(n.Value); m != nil && literal(m[1]) {
			out = append(out, fmt.Sprintf("%s holds a URL with a literal password (line %d)", path, n.Line))
		}
	}
	return out
}

func isFileKey(k string) bool {
	k = strings.ToLower(k)
	return strings.HasSuffix(k, "_file") || strings.HasSuffix(k, "keyref") || strings.HasSuffix(k, "_path")
}

// literal reports whether v is more than empty space and ${VAR} references.
func literal(v string) bool {
	return strings.TrimSpace(envRef.ReplaceAllString(v, "")) != ""
}

func mustYAML(t *testing.T, n *yaml.Node) string {
	t.Helper()
	b, err := yaml.Marshal(n)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSecretDetectorFindsLeaks(t *testing.T) {
	tests := []struct {
		name  string
		yaml  string
		leaks int
	}{
		{"env reference", "client_secret: ${CONTOSO_CLIENT_SECRET}", 0},
		{"empty", "client_secret: \"\"", 0},
		{"file path", "certificate_file: /etc/x.pem", 0},
		{"literal secret", "tenants: [{client_secret: s3cr3t}]", 1},
		{"literal password", "redis: {password: hunter2}", 1},
		{"url with literal password", "url: redis://:hunter2@redis:6379/0", 1},
		{"url with env password", "url: redis://:${REDIS_PASSWORD}@redis:6379/0", 0},
		{"dsn literal", "dsn: postgres://app:pw@db/x", 2},
		{"harmless", "listen: 0.0.0.0:8080", 0},
		{"a lifetime is not a token", "revocation:\n  max_token_lifetime: 90m\n  key: ${K}", 0},
		{"literal hashing key", "revocation: {key: 0123456789abcdef0123456789abcdef}", 1},
		{"postgres url without password", "usage: {postgres_url: postgres://app@db/x}", 0},
		{"postgres url with literal password", "usage: {postgres_url: 'postgres://app:pw@db/x'}", 1},
		{"postgres url with env password", "usage:\n  postgres_url: postgres://app:${PW}@db/x", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var root yaml.Node
			if err := yaml.Unmarshal([]byte(tc.yaml), &root); err != nil {
				t.Fatal(err)
			}
			if got := plainSecrets(&root, ""); len(got) != tc.leaks {
				t.Errorf("%d findings, want %d: %v", len(got), tc.leaks, got)
			}
		})
	}
}
