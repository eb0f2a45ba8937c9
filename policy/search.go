package policy

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// The $search grammar: one or more clauses joined by AND or OR (case-insensitive):
//
//	search = clause { ("AND" | "OR") clause }
//	clause = '"' prop ":" term '"'
//
// prop is one of searchableFields and must be visible to the caller; term is non-empty
// text without double quotes, backslashes or control characters.

// Limits on $search.
const (
	maxSearchLen     = 2048
	maxSearchClauses = 10
	maxSearchTerm    = 100 // characters
)

// searchableFields are the properties Graph's $search supports on users.
var searchableFields = map[string]bool{
	"displayName": true, "givenName": true, "surname": true, "mail": true,
	"userPrincipalName": true, "jobTitle": true, "department": true, "officeLocation": true,
}

// CheckSearch validates a $search value against the grammar above and the properties the
// client may see (of its own user if self, else of others: a directory search concerns
// others), and returns its normalized form. An empty value gives "". Errors match
// ErrInvalidQuery and never repeat the search terms.
func (c *Client) CheckSearch(raw string, self bool) (string, error) {
	if c == nil {
		return "", &QueryError{Msg: "unknown client app"}
	}
	if strings.TrimSpace(raw) == "" {
		return "", nil
	}
	if len(raw) > maxSearchLen {
		return "", &QueryError{Msg: fmt.Sprintf("$search is longer than %d bytes", maxSearchLen)}
	}
	var b strings.Builder
	s := &scanner{src: raw}
	for n := 1; ; n++ {
		if n > maxSearchClauses {
			return "", &QueryError{Msg: fmt.Sprintf("$search has more than %d clauses", maxSearchClauses)}
		}
		clause, err := c.searchClause(s, n, self)
		if err != nil {
			return "", err
		}
		b.WriteString(clause)
		s.skipSpace()
		if s.done() {
			return b.String(), nil
		}
		op, pos := s.word()
		switch strings.ToUpper(op) {
		case "AND", "OR":
			b.WriteString(" " + strings.ToUpper(op) + " ")
		default:
			return "", &QueryError{Pos: pos, Msg: fmt.Sprintf("expected AND or OR after clause %d", n)}
		}
		s.skipSpace()
	}
}

// searchClause reads one quoted "property:term" clause and returns it normalized.
func (c *Client) searchClause(s *scanner, n int, self bool) (string, error) {
	s.skipSpace()
	start := s.i + 1
	if s.done() || s.src[s.i] != '"' {
		return "", &QueryError{Pos: start, Msg: fmt.Sprintf(`clause %d must be a double-quoted "property:term"`, n)}
	}
	end := strings.IndexByte(s.src[s.i+1:], '"')
	if end < 0 {
		return "", &QueryError{Pos: start, Msg: fmt.Sprintf("clause %d has no closing double quote", n)}
	}
	body := s.src[s.i+1 : s.i+1+end]
	s.i += end + 2
	prop, term, ok := strings.Cut(body, ":")
	if !ok {
		return "", &QueryError{Pos: start, Msg: fmt.Sprintf(`clause %d must have the form "property:term"`, n)}
	}
	f, known := CanonicalField(prop)
	switch {
	case !known:
		return "", &QueryError{Pos: start, Msg: fmt.Sprintf("clause %d: unknown property", n)}
	case !searchableFields[f]:
		return "", &QueryError{Pos: start, Msg: fmt.Sprintf("clause %d: property '%s' cannot be searched", n, f)}
	case !c.visible(f, self):
		return "", &QueryError{Pos: start, Msg: fmt.Sprintf("clause %d: property '%s' is not visible to client %q", n, f, c.Name)}
	}
	if err := checkTerm(term); err != nil {
		return "", &QueryError{Pos: start, Msg: fmt.Sprintf("clause %d: %v", n, err)}
	}
	return `"` + f + ":" + term + `"`, nil
}

// checkTerm validates a search term.
func checkTerm(term string) error {
	switch {
	case strings.TrimSpace(term) == "":
		return fmt.Errorf("the search term is empty")
	case !utf8.ValidString(term):
		return fmt.Errorf("the search term is not valid UTF-8")
	case utf8.RuneCountInString(term) > maxSearchTerm:
		return fmt.Errorf("the search term is longer than %d characters", maxSearchTerm)
	case strings.ContainsRune(term, '\\'):
		return fmt.Errorf("the search term may not contain a backslash")
	}
	for _, r := range term {
		if badRune(r) {
			return fmt.Errorf("the search term contains a control character")
		}
	}
	return nil
}

// scanner is a cursor over a $search or $orderby value.
type scanner struct {
	src string
	i   int
}

func (s *scanner) done() bool { return s.i >= len(s.src) }

func (s *scanner) skipSpace() {
	for s.i < len(s.src) && (s.src[s.i] == ' ' || s.src[s.i] == '\t') {
		s.i++
	}
}

// word reads up to the next space or double quote and returns it with its 1-based offset.
func (s *scanner) word() (string, int) {
	start := s.i
	for s.i < len(s.src) && s.src[s.i] != ' ' && s.src[s.i] != '\t' && s.src[s.i] != '"' {
		s.i++
	}
	return s.src[start:s.i], start + 1
}
