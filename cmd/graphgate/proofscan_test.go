package main

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"

	"github.com/graphgate/graphgate/graph/emulator"
)

// personalValue is one value of the fixture directory that must never be written.
type personalValue struct {
	Kind  string // "displayName", "upn", "oid", ...
	Value string
	lower []byte
	long  bool // long enough to search in random-looking binary data too
}

// personalValues lists every personal value of every fixture user: names, given names,
// surnames, UPNs and their local parts, mails, phones (as written and as digits) and
// object ids (with and without dashes).
func personalValues(emu *emulator.Emulator) []personalValue {
	seen := map[string]bool{}
	var out []personalValue
	add := func(kind, v string) {
		v = strings.TrimSpace(v)
		if len(v) < 3 || seen[strings.ToLower(v)] {
			return
		}
		seen[strings.ToLower(v)] = true
		out = append(out, personalValue{Kind: kind, Value: v, lower: bytes.ToLower([]byte(v)), long: len(v) >= 8})
	}
	for _, t := range emu.Directory().Tenants {
		for _, info := range t.Users {
			u, ok := emu.User(t.ID, info.ID)
			if !ok {
				continue
			}
			add("objectId", u.ID)
			add("objectId (no dashes)", strings.ReplaceAll(u.ID, "-", ""))
			add("displayName", u.DisplayName)
			add("givenName", u.GivenName)
			add("surname", u.Surname)
			add("userPrincipalName", u.UserPrincipalName)
			add("UPN local part", strings.SplitN(u.UserPrincipalName, "@", 2)[0])
			add("mail", u.Mail)
			add("mail local part", strings.SplitN(u.Mail, "@", 2)[0])
			for _, p := range append([]string{u.MobilePhone}, u.BusinessPhones...) {
				add("phone", p)
				add("phone (digits)", digits(p))
			}
		}
	}
	return out
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

// leak is a personal value found where graphgate wrote.
type leak struct {
	Where string
	Value personalValue
	Near  string
}

func (l leak) String() string {
	return fmt.Sprintf("%s %q in %s: …%s…", l.Value.Kind, l.Value.Value, l.Where, l.Near)
}

// scanBytes reports the personal values in data. Binary data is searched for long
// values only: a three-letter name turns up by chance in random bytes (HyperLogLog
// registers, keys), a UPN or an object id does not.
func scanBytes(where string, data []byte, values []personalValue) []leak {
	binary := !utf8.Valid(data) || bytes.IndexByte(data, 0) >= 0
	lower := bytes.ToLower(data)
	var out []leak
	for _, v := range values {
		if binary && !v.long {
			continue
		}
		if at := findWord(lower, v.lower); at >= 0 {
			from, to := max(at-30, 0), min(at+len(v.lower)+30, len(data))
			out = append(out, leak{Where: where, Value: v, Near: printable(data[from:to])})
		}
	}
	return out
}

// findWord returns the first index of word in s (both lower-case) that is not inside a
// longer word: "uma" is found in `"uma"` or "displayname:uma", not in "human resources".
func findWord(s, word []byte) int {
	for off := 0; ; {
		i := bytes.Index(s[off:], word)
		if i < 0 {
			return -1
		}
		i += off
		end := i + len(word)
		if (i == 0 || !isWordByte(s[i-1])) && (end == len(s) || !isWordByte(s[end])) {
			return i
		}
		off = i + 1
	}
}

// isWordByte reports letters and digits; bytes of multi-byte UTF-8 characters count as
// letters.
func isWordByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b >= 0x80
}

func printable(b []byte) string {
	return strings.Map(func(r rune) rune {
		if r < 32 || r == utf8.RuneError {
			return '.'
		}
		return r
	}, string(b))
}

// scanTree scans every file under root (recursively), skipping the paths in skip.
func scanTree(t *testing.T, root string, skip map[string]bool, values []personalValue) (files int, leaks []leak) {
	t.Helper()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || skip[path] {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		leaks = append(leaks, scanBytes(path, data, values)...)
		return nil
	})
	if err != nil {
		t.Fatalf("scanning %s: %v", root, err)
	}
	return files, leaks
}

// redisDump reads every key matching one of the patterns with its value, type by type
// (DUMP would compress large values and hide what they hold).
func redisDump(ctx context.Context, rdb *redis.Client, patterns ...string) (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, pat := range patterns {
		iter := rdb.Scan(ctx, 0, pat, 500).Iterator()
		for iter.Next(ctx) {
			key := iter.Val()
			v, err := redisValue(ctx, rdb, key)
			if err != nil {
				return nil, fmt.Errorf("redis %s: %w", key, err)
			}
			out[key] = v
		}
		if err := iter.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func redisValue(ctx context.Context, rdb *redis.Client, key string) ([]byte, error) {
	typ, err := rdb.Type(ctx, key).Result()
	if err != nil {
		return nil, err
	}
	var parts []string
	switch typ {
	case "string":
		s, err := rdb.Get(ctx, key).Result()
		if err != nil && err != redis.Nil {
			return nil, err
		}
		parts = []string{s}
	case "hash":
		m, err := rdb.HGetAll(ctx, key).Result()
		if err != nil {
			return nil, err
		}
		for k, v := range m {
			parts = append(parts, k, v)
		}
	case "set":
		parts, err = rdb.SMembers(ctx, key).Result()
	case "list":
		parts, err = rdb.LRange(ctx, key, 0, -1).Result()
	case "zset":
		parts, err = rdb.ZRange(ctx, key, 0, -1).Result()
	case "stream":
		msgs, err2 := rdb.XRange(ctx, key, "-", "+").Result()
		err = err2
		for _, m := range msgs {
			parts = append(parts, fmt.Sprint(m.Values))
		}
	case "none":
		return nil, nil
	}
	sort.Strings(parts)
	return []byte(strings.Join(parts, "\n")), err
}

// TestScannerFindsPlantedValues proves the proof's scanner is not blind: planted values
// are found in text and binary data, and harmless look-alikes are not.
func TestScannerFindsPlantedValues(t *testing.T) {
	emu, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()
	values := personalValues(emu)
	ten := emu.Directory().Tenants[0]
	u, _ := emu.User(ten.ID, ten.Users[0].ID)
	tests := []struct {
		name  string
		data  []byte
		found bool
	}{
		{"UPN in a log line", []byte(`{"route":"GET /v1.0/users/` + u.UserPrincipalName + `"}`), true},
		{"upper-case object id", []byte("key=" + strings.ToUpper(u.ID)), true},
		{"object id without dashes in binary", append([]byte{0, 1, 2}, []byte(strings.ReplaceAll(u.ID, "-", ""))...), true},
		{"given name in a search term", []byte(`$search="displayName:` + u.GivenName + `"`), true},
		{"phone digits", []byte("tel=" + digits(u.BusinessPhones[0]) + ";"), true},
		{"route templates only", []byte(`{"route":"GET /v1.0/users/{id}","status":200,"department":"Human Resources"}`), false},
		{"tenant domain only", []byte("contoso.example fabrikam.example"), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := len(scanBytes("test", tc.data, values)) > 0; got != tc.found {
				t.Errorf("found %t, want %t: %v", got, tc.found, scanBytes("test", tc.data, values))
			}
		})
	}
}
