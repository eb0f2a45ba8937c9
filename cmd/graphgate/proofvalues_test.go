package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/graphgate/graphgate/graph/emulator"
	"github.com/graphgate/graphgate/proxy/privacy/scan"
)

// valueSet collects the values the proof looks for, each once.
type valueSet struct {
	seen map[string]bool
	list []scan.Value
}

func (s *valueSet) add(label string, v []byte) {
	if len(v) < scan.MinLen || s.seen[strings.ToLower(string(v))] {
		return
	}
	if s.seen == nil {
		s.seen = map[string]bool{}
	}
	s.seen[strings.ToLower(string(v))] = true
	s.list = append(s.list, scan.Value{Label: label, Text: v})
}

func (s *valueSet) addString(label, v string) { s.add(label, []byte(strings.TrimSpace(v))) }

// personalValues lists every personal value the proof must not find: every per-user
// field of every fixture user (names with their accents, UPNs and their local parts,
// mails, phones as written and as digits, office, employee id, job title, department,
// object ids with and without dashes); every value of the tenants' mailbox contacts and
// outside people, which the People API ranks among users' relevant people (names,
// companies, addresses and their local parts, phones as written and as digits, ids);
// every token the client sent, its signature and its personal claims; a fragment and the
// SHA-256 of every photo served; the client's IP address and device string; and the
// secrets the operator gave. The fixture's tenant-wide fields (company, city, country,
// usage location, language) describe the tenant, not a person, and the tenant's name is
// in every configuration: they are not included.
func personalValues(emu *emulator.Emulator, tokens []string, photos [][]byte, secrets []string) []scan.Value {
	var s valueSet
	for _, t := range emu.Directory().Tenants {
		for i, info := range t.Users {
			u, ok := emu.User(t.ID, info.ID)
			if !ok {
				continue
			}
			of := fmt.Sprintf(" of user %d of %s", i, t.Domain)
			s.addString("object id"+of, u.ID)
			s.addString("object id without dashes"+of, strings.ReplaceAll(u.ID, "-", ""))
			s.addString("displayName"+of, u.DisplayName)
			s.addString("givenName"+of, u.GivenName)
			s.addString("surname"+of, u.Surname)
			s.addString("userPrincipalName"+of, u.UserPrincipalName)
			s.addString("UPN local part"+of, strings.SplitN(u.UserPrincipalName, "@", 2)[0])
			s.addString("mail"+of, u.Mail)
			s.addString("mail local part"+of, strings.SplitN(u.Mail, "@", 2)[0])
			s.addString("employeeId"+of, u.EmployeeID)
			s.addString("officeLocation"+of, u.OfficeLocation)
			s.addString("jobTitle"+of, u.JobTitle)
			s.addString("department"+of, u.Department)
			for _, p := range append([]string{u.MobilePhone}, u.BusinessPhones...) {
				s.addString("phone"+of, p)
				s.addString("phone digits"+of, digits(p))
			}
		}
	}
	addContacts(&s, emu)
	for i, tok := range tokens {
		addToken(&s, fmt.Sprintf("token %d", i), tok)
	}
	for i, p := range photos {
		// A fragment finds the photo's bytes wherever they are written; the scanner
		// looks for the digests of each value itself, so the photo's SHA-256 is a value
		// of its own (and not the whole photo: long values slow every scan down).
		sum := sha256.Sum256(p)
		s.add(fmt.Sprintf("photo %d fragment", i), p[len(p)/2:min(len(p), len(p)/2+48)])
		s.add(fmt.Sprintf("photo %d SHA-256", i), sum[:])
	}
	s.addString("client IP address", proofClientIP)
	s.addString("client device (User-Agent)", proofUserAgent)
	s.addString("client device id", "5c1f-canary-device-41d7")
	for i, sec := range secrets {
		s.addString(fmt.Sprintf("operator secret %d", i), sec)
	}
	return s.list
}

// addContacts adds the values of every tenant's mailbox contacts and outside people.
func addContacts(s *valueSet, emu *emulator.Emulator) {
	for _, t := range emu.Directory().Tenants {
		for i, p := range emu.Contacts(t.ID) {
			of := fmt.Sprintf(" of %s contact %d (%s)", t.Domain, i, p.Subclass)
			s.addString("id"+of, p.ID)
			s.addString("displayName"+of, p.DisplayName)
			s.addString("givenName"+of, p.GivenName)
			s.addString("surname"+of, p.Surname)
			s.addString("companyName"+of, p.CompanyName)
			for _, m := range p.Emails {
				s.addString("address"+of, m)
				s.addString("address local part"+of, strings.SplitN(m, "@", 2)[0])
			}
			for _, ph := range p.Phones {
				s.addString("phone"+of, ph.Number)
				s.addString("phone digits"+of, digits(ph.Number))
			}
		}
	}
}

// addToken adds a token, its payload and signature segments, and its claims that
// identify a person or this token.
func addToken(s *valueSet, label, tok string) {
	s.addString(label, tok)
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return
	}
	s.addString(label+" payload", parts[1])
	s.addString(label+" signature", parts[2])
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return
	}
	var claims map[string]any
	if json.Unmarshal(raw, &claims) != nil {
		return
	}
	for _, k := range []string{"oid", "sub", "uti", "aio", "name", "preferred_username", "upn", "unique_name", "email"} {
		if v, ok := claims[k].(string); ok {
			s.addString(label+" claim "+k, v)
		}
	}
}

func digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// contactCanaries are the values of the emulator's contacts and outside people (names,
// addresses and their local parts, phones and their digits, ids) that are no fixture
// user's value, which a response may show.
func contactCanaries(emu *emulator.Emulator) [][]byte {
	users := map[string]bool{}
	for _, t := range emu.Directory().Tenants {
		for _, info := range t.Users {
			u, _ := emu.User(t.ID, info.ID)
			for _, v := range append([]string{u.DisplayName, u.GivenName, u.Surname, u.Mail, u.UserPrincipalName,
				u.MobilePhone, digits(u.MobilePhone), u.CompanyName, u.JobTitle}, u.BusinessPhones...) {
				users[strings.ToLower(v)] = true
			}
			for _, p := range u.BusinessPhones {
				users[digits(p)] = true
			}
		}
	}
	var out [][]byte
	for _, t := range emu.Directory().Tenants {
		for _, v := range contactStrings(emu, t.ID) {
			if len(v) >= 4 && !users[strings.ToLower(v)] {
				out = append(out, []byte(strings.ToLower(v)))
			}
		}
	}
	return out
}

// contactStrings are the personal values of a tenant's contacts.
func contactStrings(emu *emulator.Emulator, tenantID string) []string {
	var out []string
	for _, p := range emu.Contacts(tenantID) {
		out = append(out, p.ID, p.DisplayName, p.GivenName, p.Surname, p.CompanyName)
		for _, m := range p.Emails {
			out = append(out, m, strings.SplitN(m, "@", 2)[0])
		}
		for _, ph := range p.Phones {
			out = append(out, ph.Number, digits(ph.Number))
		}
	}
	return out
}

// noContactsIn checks that a response shows none of the contacts' values.
func noContactsIn(emu *emulator.Emulator) func([]byte) string {
	canaries := contactCanaries(emu)
	return func(b []byte) string {
		lower := bytes.ToLower(b)
		for _, c := range canaries {
			if bytes.Contains(lower, c) {
				return fmt.Sprintf("a response shows a contact's value (%d bytes)", len(c))
			}
		}
		return ""
	}
}

// both runs two checks and reports the problems of each.
func both(a, b func([]byte) string) func([]byte) string {
	return func(body []byte) string {
		var out []string
		for _, f := range []func([]byte) string{a, b} {
			if f != nil {
				if v := f(body); v != "" {
					out = append(out, v)
				}
			}
		}
		return strings.Join(out, "; ")
	}
}
