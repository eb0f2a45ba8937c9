package policy

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/graphgate/graphgate/graph/spec"
)

var clientKeys = []string{"app_id", "name", "purpose", "operations", "fields"}

// client validates one entry of the clients list; it returns nil if it has problems
// (which are recorded).
func (ps *parser) client(i int, n *yaml.Node) *Client {
	before := len(ps.problems)
	ctx := fmt.Sprintf("client #%d: ", i+1)
	if name := peekScalar(n, "name"); name != "" && validName(name) {
		ctx = fmt.Sprintf("client %q: ", name)
	}
	m := ps.mapping(n, ctx, clientKeys...)
	if m == nil {
		return nil
	}
	for _, k := range []string{"app_id", "name", "purpose", "operations"} {
		if _, ok := m[k]; !ok {
			ps.addf(n, "%smissing key %q", ctx, k)
		}
	}
	appID := ps.appID(m["app_id"], ctx)
	name := ps.name(m["name"], ctx)
	purpose := ps.purpose(m["purpose"], ctx)
	ops := ps.operations(m["operations"], ctx)
	var self, others []string
	if f, ok := m["fields"]; ok && f.Tag != "!!null" {
		fm := ps.mapping(f, ctx+"fields: ", "self", "others")
		self = ps.fieldList(fm["self"], ctx, "fields.self")
		others = ps.fieldList(fm["others"], ctx, "fields.others")
	}
	if len(ps.problems) > before {
		return nil
	}
	return newClient(appID, name, purpose, ops, self, others)
}

// peekScalar returns the scalar value of key in mapping n, or "".
func peekScalar(n *yaml.Node, key string) string {
	if n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key && n.Content[i+1].Kind == yaml.ScalarNode {
			return n.Content[i+1].Value
		}
	}
	return ""
}

// scalar returns the text of a non-null scalar; ok is false (with a problem recorded)
// otherwise. A nil node (missing key, already reported) gives ok false silently.
func (ps *parser) scalar(n *yaml.Node, ctx, key string) (string, bool) {
	if n == nil {
		return "", false
	}
	if !ps.kind(n, yaml.ScalarNode, ctx+key+": ", "a single value") {
		return "", false
	}
	v := strings.TrimSpace(n.Value)
	if n.Tag == "!!null" || v == "" {
		ps.addf(n, "%s%s must not be empty", ctx, key)
		return "", false
	}
	return v, true
}

func (ps *parser) appID(n *yaml.Node, ctx string) string {
	v, ok := ps.scalar(n, ctx, "app_id")
	if !ok {
		return ""
	}
	if !spec.IsObjectID(v) {
		ps.addf(n, "%sapp_id %q is not a GUID like 11111111-2222-3333-4444-555555555555", ctx, v)
		return ""
	}
	id := strings.ToLower(v)
	if line, dup := ps.appIDs[id]; dup {
		ps.addf(n, "%sapp_id %s is already used by the client at line %d", ctx, id, line)
		return ""
	}
	ps.appIDs[id] = n.Line
	return id
}

func (ps *parser) name(n *yaml.Node, ctx string) string {
	v, ok := ps.scalar(n, ctx, "name")
	if !ok {
		return ""
	}
	if !validName(v) {
		ps.addf(n, "%sname must be 1 to %d letters, digits, '.', '_' or '-'", ctx, maxNameLen)
		return ""
	}
	if line, dup := ps.names[v]; dup {
		ps.addf(n, "%sname is already used by the client at line %d", ctx, line)
		return ""
	}
	ps.names[v] = n.Line
	return v
}

func (ps *parser) purpose(n *yaml.Node, ctx string) string {
	v, ok := ps.scalar(n, ctx, "purpose")
	if !ok {
		return ""
	}
	if len(v) > maxPurposeLen {
		ps.addf(n, "%spurpose is longer than %d bytes", ctx, maxPurposeLen)
		return ""
	}
	return v
}

func (ps *parser) operations(n *yaml.Node, ctx string) []Operation {
	if n == nil || n.Tag == "!!null" {
		return nil
	}
	if !ps.kind(n, yaml.SequenceNode, ctx+"operations: ", "a list of operations") {
		return nil
	}
	ops := []Operation{}
	seen := map[Operation]bool{}
	for _, item := range n.Content {
		if !ps.kind(item, yaml.ScalarNode, ctx+"operations: ", "an operation name") {
			continue
		}
		op, ok := ParseOperation(item.Value)
		switch {
		case !ok:
			ps.addf(item, "%sunknown operation %q (want one of %s)", ctx, item.Value, opNames())
		case seen[op]:
			ps.addf(item, "%soperation %q is listed twice", ctx, op)
		default:
			seen[op] = true
			ops = append(ops, op)
		}
	}
	return ops
}

func (ps *parser) fieldList(n *yaml.Node, ctx, key string) []string {
	if n == nil || n.Tag == "!!null" {
		return nil
	}
	if !ps.kind(n, yaml.SequenceNode, ctx+key+": ", "a list of user properties") {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for _, item := range n.Content {
		if !ps.kind(item, yaml.ScalarNode, ctx+key+": ", "a user property name") {
			continue
		}
		f, known := CanonicalField(item.Value)
		switch {
		case known && f != item.Value:
			ps.addf(item, "%sunknown field %q in %s (did you mean %q?)", ctx, item.Value, key, f)
		case !known:
			ps.addf(item, "%sunknown field %q in %s", ctx, item.Value, key)
		case internalOnly[f]:
			ps.addf(item, "%sfield %q in %s is internal to the gateway and may not be granted", ctx, f, key)
		case seen[f]:
			ps.addf(item, "%sfield %q is listed twice in %s", ctx, f, key)
		default:
			seen[f] = true
			out = append(out, f)
		}
	}
	return out
}

func opNames() string {
	var names []string
	for _, op := range Operations() {
		names = append(names, string(op))
	}
	return strings.Join(names, ", ")
}

// validName reports whether s is a usable client name.
func validName(s string) bool {
	if len(s) == 0 || len(s) > maxNameLen {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}
