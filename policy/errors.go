package policy

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidQuery is matched (with errors.Is) by every error from ParseSelect and the
// Check methods: the caller's query option is malformed, outside the supported grammar
// or references a property the caller may not see. Such errors become 400 responses.
var ErrInvalidQuery = errors.New("policy: invalid query option")

// QueryError describes why a query option was refused. Its message is meant for the
// caller; it never contains literal values or search terms from the query, only
// property names, keywords and positions.
type QueryError struct {
	// Pos is the 1-based byte offset of the problem in the option value, or 0.
	Pos int
	// Msg is the human-readable reason.
	Msg string
}

// Error returns the message, with the position when known.
func (e *QueryError) Error() string {
	if e.Pos > 0 {
		return fmt.Sprintf("%s (at position %d)", e.Msg, e.Pos)
	}
	return e.Msg
}

// Is reports whether target is ErrInvalidQuery.
func (e *QueryError) Is(target error) bool { return target == ErrInvalidQuery }

// Problem is one error found in a policy file.
type Problem struct {
	Line   int    // 1-based line, 0 if unknown
	Column int    // 1-based column, 0 if unknown
	Msg    string // what is wrong
}

// Error lists every problem found in a policy file. Its message has one line per
// problem in the form "name:line:col: message", sorted by position.
type Error struct {
	// Name is the file name shown in messages; "" means "policy.yaml".
	Name     string
	Problems []Problem
}

// Error returns one line per problem.
func (e *Error) Error() string {
	name := e.Name
	if name == "" {
		name = "policy.yaml"
	}
	lines := make([]string, 0, len(e.Problems))
	for _, p := range e.Problems {
		switch {
		case p.Line > 0 && p.Column > 0:
			lines = append(lines, fmt.Sprintf("%s:%d:%d: %s", name, p.Line, p.Column, p.Msg))
		case p.Line > 0:
			lines = append(lines, fmt.Sprintf("%s:%d: %s", name, p.Line, p.Msg))
		default:
			lines = append(lines, fmt.Sprintf("%s: %s", name, p.Msg))
		}
	}
	return strings.Join(lines, "\n")
}
