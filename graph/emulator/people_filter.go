package emulator

import (
	"strings"
	"unicode"

	"github.com/graphgate/graphgate/graph/spec"
)

// $filter and $search on the People API. Graph documents these filters on people
// (https://learn.microsoft.com/graph/people-insights-overview):
// "$filter=personType/class eq 'Person' and personType/subclass eq 'OrganizationUser'"
// and "$filter=displayName eq 'Lorrie Frye'". The emulator serves exactly those three
// comparisons, joined by and/or with parentheses. Microsoft Graph Toolkit 4.6 sends
// "personType/class eq 'Person'and personType/subclass eq 'OrganizationUser'", with no
// space between the closing quote and "and" (mgt-components graph.people.js, getPeople
// and findPeople); Graph accepts it and so does the lexer shared with the users' $filter
// (lexFilter), which ends a string literal at its closing quote.

// personPred is a compiled people $filter.
type personPred func(p *Person) bool

// errPeopleFilter is the emulator's answer to a $filter the People API does not serve.
// Graph's wording for this case is not documented: the message is the emulator's, the
// code Graph's generic BadRequest.
func errPeopleFilter(what string) *queryError {
	return badRequest("Invalid filter clause: " + what + ". The people API supports " +
		"personType/class, personType/subclass and displayName compared with 'eq', joined by 'and' and 'or'.")
}

// unknownPersonProp is the answer to a property the person resource does not have. It
// has the shape Graph gives for users ("Could not find a property named 'x' on type
// 'microsoft.graph.user'."); the same shape is assumed for person.
func unknownPersonProp(name, typ string) *queryError {
	return badRequest("Could not find a property named '" + name + "' on type 'microsoft.graph." + typ + "'.")
}

// peopleFilterParser is a recursive-descent parser:
//
//	or         = and { "or" and }
//	and        = primary { "and" primary }
//	primary    = "(" or ")" | comparison
//	comparison = ("personType/class" | "personType/subclass" | "displayName") "eq" 'string'
//
// Keywords and property names are accepted in any case; values compare case-insensitively.
type peopleFilterParser struct {
	toks []string
	pos  int
}

// parsePeopleFilter compiles a people $filter.
func parsePeopleFilter(s string) (personPred, *queryError) {
	toks, err := lexFilter(s)
	if err != nil {
		return nil, err
	}
	p := &peopleFilterParser{toks: toks}
	f, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.toks) {
		return nil, errPeopleFilter("unexpected '" + p.toks[p.pos] + "'")
	}
	return f, nil
}

func (p *peopleFilterParser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *peopleFilterParser) next() string {
	t := p.peek()
	p.pos++
	return t
}

func (p *peopleFilterParser) or() (personPred, *queryError) {
	left, err := p.and()
	for err == nil && strings.EqualFold(p.peek(), "or") {
		p.next()
		var right personPred
		if right, err = p.and(); err == nil {
			l := left
			left = func(x *Person) bool { return l(x) || right(x) }
		}
	}
	return left, err
}

func (p *peopleFilterParser) and() (personPred, *queryError) {
	left, err := p.primary()
	for err == nil && strings.EqualFold(p.peek(), "and") {
		p.next()
		var right personPred
		if right, err = p.primary(); err == nil {
			l := left
			left = func(x *Person) bool { return l(x) && right(x) }
		}
	}
	return left, err
}

func (p *peopleFilterParser) primary() (personPred, *queryError) {
	if p.peek() != "(" {
		return p.comparison()
	}
	p.next()
	f, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.next(); t != ")" {
		return nil, errPeopleFilter("expected ')', found '" + t + "'")
	}
	return f, nil
}

// comparison parses "prop eq 'value'".
func (p *peopleFilterParser) comparison() (personPred, *queryError) {
	name := p.next()
	if name == "" || name == ")" || name == "," || name[0] == '\'' {
		return nil, errPeopleFilter("expected a property, found '" + name + "'")
	}
	if strings.EqualFold(name, "not") {
		return nil, errPeopleFilter("operator 'not' is not supported")
	}
	if p.peek() == "(" {
		return nil, errPeopleFilter("function '" + name + "' is not supported")
	}
	get, err := personFilterProp(name)
	if err != nil {
		return nil, err
	}
	if op := p.next(); !strings.EqualFold(op, "eq") {
		return nil, errPeopleFilter("operator '" + op + "' is not supported")
	}
	lit := p.next()
	if len(lit) < 2 || lit[0] != '\'' {
		return nil, errPeopleFilter("expected a string literal, found '" + lit + "'")
	}
	want := strings.ReplaceAll(lit[1:len(lit)-1], "''", "'")
	return func(x *Person) bool { return strings.EqualFold(get(x), want) }, nil
}

// personFilterProp resolves a filterable property to its getter.
func personFilterProp(name string) (func(*Person) string, *queryError) {
	base, sub, nested := strings.Cut(name, "/")
	prop, ok := spec.PersonProperty(base)
	switch {
	case !ok:
		return nil, unknownPersonProp(base, "person")
	case prop == "displayName" && !nested:
		return func(x *Person) string { return x.DisplayName }, nil
	case prop != "personType" || !nested:
		return nil, errPeopleFilter("property '" + name + "' is not supported")
	case strings.EqualFold(sub, "class"):
		return func(x *Person) string { return x.Class }, nil
	case strings.EqualFold(sub, "subclass"):
		return func(x *Person) string { return x.Subclass }, nil
	}
	return nil, unknownPersonProp(sub, "personType")
}

// peopleSearch is a parsed people $search: "$search=j" finds "people whose display name
// or email address have a word that begins with the letter j", and a quoted address
// ($search="tylerle@example.com") finds that address
// (https://learn.microsoft.com/graph/people-insights-overview). The emulator matches
// the folded term (foldText) against each word of displayName, the whole displayName
// and each email address, by prefix. Graph's fuzzy matching is not modelled.
type peopleSearch struct {
	term string // folded, non-empty
}

// errEmptySearch answers an empty $search. Graph's wording is not documented: the
// message is the emulator's, the code Graph's generic BadRequest.
var errEmptySearch = badRequest("The $search query option requires a non-empty search term.")

// parsePeopleSearch reads $search: bare text or one double-quoted string.
func parsePeopleSearch(v string) (*peopleSearch, *queryError) {
	v = strings.TrimSpace(v)
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = strings.TrimSpace(v[1 : len(v)-1])
	}
	if v == "" {
		return nil, errEmptySearch
	}
	return &peopleSearch{term: foldText(v)}, nil
}

// matches reports whether x matches the search.
func (s *peopleSearch) matches(x *Person) bool {
	name := foldText(x.DisplayName)
	if strings.HasPrefix(name, s.term) {
		return true
	}
	isSep := func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }
	for _, words := range [][]string{strings.Fields(name), strings.FieldsFunc(name, isSep)} {
		for _, w := range words {
			if strings.HasPrefix(w, s.term) {
				return true
			}
		}
	}
	for _, m := range x.Emails {
		if strings.HasPrefix(foldText(m), s.term) {
			return true
		}
	}
	return false
}

// accentFold spells common accented Latin letters without their marks, so that a search
// for "soren" finds "Søren" (the emulator's assumption of Graph's matching).
var accentFold = strings.NewReplacer(
	"à", "a", "á", "a", "â", "a", "ã", "a", "ä", "a", "å", "a", "ā", "a", "æ", "ae",
	"ç", "c", "ć", "c", "č", "c", "ð", "d", "đ", "d",
	"è", "e", "é", "e", "ê", "e", "ë", "e", "ē", "e", "ė", "e", "ę", "e", "ě", "e",
	"ì", "i", "í", "i", "î", "i", "ï", "i", "ī", "i", "ł", "l",
	"ñ", "n", "ń", "n", "ň", "n",
	"ò", "o", "ó", "o", "ô", "o", "õ", "o", "ö", "o", "ø", "o", "ō", "o", "ő", "o", "œ", "oe",
	"ś", "s", "š", "s", "ş", "s", "ß", "ss", "þ", "th",
	"ù", "u", "ú", "u", "û", "u", "ü", "u", "ū", "u", "ů", "u", "ű", "u",
	"ý", "y", "ÿ", "y", "ź", "z", "ż", "z", "ž", "z")

// foldText lower-cases s and removes accents.
func foldText(s string) string { return accentFold.Replace(strings.ToLower(s)) }
