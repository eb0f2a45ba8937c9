package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Limits that keep a policy file small and readable.
const (
	maxPolicyBytes = 1 << 20
	maxNameLen     = 64
	maxPurposeLen  = 1000
)

// Parse parses and validates a YAML policy (see the package documentation for the
// format). On any problem it returns an *Error listing every problem found, each with
// its line and column, under the file name "policy.yaml".
func Parse(data []byte) (*Policy, error) {
	return ParseNamed("policy.yaml", data)
}

// ParseNamed is Parse with the file name to show in error messages.
func ParseNamed(name string, data []byte) (*Policy, error) {
	ps := &parser{}
	clients := ps.parse(data)
	if len(ps.problems) > 0 {
		sort.SliceStable(ps.problems, func(i, j int) bool {
			a, b := ps.problems[i], ps.problems[j]
			if a.Line != b.Line {
				return a.Line < b.Line
			}
			return a.Column < b.Column
		})
		return nil, &Error{Name: name, Problems: ps.problems}
	}
	return newPolicy(clients), nil
}

// parser walks the YAML node tree, collecting problems instead of stopping at the first.
type parser struct {
	problems []Problem
	appIDs   map[string]int // app id -> line of first definition
	names    map[string]int // client name -> line of first definition
}

func (ps *parser) addf(n *yaml.Node, format string, args ...any) {
	p := Problem{Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		p.Line, p.Column = n.Line, n.Column
	}
	ps.problems = append(ps.problems, p)
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parse decodes exactly one YAML document and validates it.
func (ps *parser) parse(data []byte) []*Client {
	if len(data) > maxPolicyBytes {
		ps.addf(nil, "policy is larger than %d bytes", maxPolicyBytes)
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			ps.addf(nil, "policy is empty: want a top-level \"clients\" list")
		} else {
			ps.syntaxError(err)
		}
		return nil
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		ps.addf(&extra, "only one YAML document is allowed")
	} else if !errors.Is(err, io.EOF) {
		ps.syntaxError(err)
	}
	if len(doc.Content) == 0 {
		ps.addf(&doc, "policy is empty: want a top-level \"clients\" list")
		return nil
	}
	return ps.root(doc.Content[0])
}

func (ps *parser) syntaxError(err error) {
	msg := err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		ps.problems = append(ps.problems, Problem{Line: line, Msg: "invalid YAML: " + m[2]})
		return
	}
	ps.problems = append(ps.problems, Problem{Msg: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")})
}

// mapping checks that n is a mapping with only the allowed keys, each at most once, and
// returns the values by key. ctx prefixes messages.
func (ps *parser) mapping(n *yaml.Node, ctx string, allowed ...string) map[string]*yaml.Node {
	if !ps.kind(n, yaml.MappingNode, ctx, "a mapping") {
		return nil
	}
	out := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			ps.addf(k, "%skeys must be plain strings", ctx)
			continue
		}
		if !contains(allowed, k.Value) {
			ps.addf(k, "%sunknown key %q (want %s)", ctx, k.Value, strings.Join(allowed, ", "))
			continue
		}
		if _, dup := out[k.Value]; dup {
			ps.addf(k, "%skey %q is repeated", ctx, k.Value)
			continue
		}
		out[k.Value] = v
	}
	return out
}

// kind reports whether n has the wanted kind, adding a problem if not. Aliases are
// refused: a policy should say what it means where it says it.
func (ps *parser) kind(n *yaml.Node, want yaml.Kind, ctx, what string) bool {
	switch {
	case n.Kind == yaml.AliasNode:
		ps.addf(n, "%sYAML aliases are not supported", ctx)
		return false
	case n.Kind != want:
		ps.addf(n, "%swant %s", ctx, what)
		return false
	}
	return true
}

func (ps *parser) root(n *yaml.Node) []*Client {
	top := ps.mapping(n, "", "clients")
	if top == nil {
		return nil
	}
	list, ok := top["clients"]
	if !ok {
		ps.addf(n, "missing key \"clients\"")
		return nil
	}
	if list.Tag == "!!null" {
		return nil // "clients:" with nothing: a valid policy that allows nothing
	}
	if !ps.kind(list, yaml.SequenceNode, "clients: ", "a list of client apps") {
		return nil
	}
	ps.appIDs, ps.names = map[string]int{}, map[string]int{}
	var clients []*Client
	for i, item := range list.Content {
		if c := ps.client(i, item); c != nil {
			clients = append(clients, c)
		}
	}
	return clients
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
