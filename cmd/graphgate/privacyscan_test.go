package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// scanValues are the values file of the privacy scan tests: line 1 is blank.
var scanValues = []string{"", "Adele Vance", "adele.vance@contoso.example", "Søren Ångström"}

// privacyScan runs "graphgate privacy scan" with args and returns its exit code and
// output.
func privacyScan(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), append([]string{"graphgate", "privacy", "scan"}, args...), func(string) string { return "" }, &out, &errOut)
	if err != nil {
		errOut.WriteString("graphgate: " + err.Error() + "\n")
		code = exitCode(err)
	}
	for _, v := range scanValues[1:] {
		for _, s := range []string{out.String(), errOut.String()} {
			if strings.Contains(strings.ToLower(s), strings.ToLower(v)) {
				t.Errorf("the output repeats a personal value:\n%s", s)
			}
		}
	}
	return code, out.String(), errOut.String()
}

func writeFile(t *testing.T, path, data string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// scanCase is a run of "graphgate privacy scan" and what it must print.
type scanCase struct {
	name   string
	args   []string
	code   int
	stdout []string // lines stdout must hold
	stderr string   // what stderr must hold
}

// runScanCases runs each case as a subtest.
func runScanCases(t *testing.T, tests []scanCase) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := privacyScan(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout, stderr)
			}
			for _, l := range tc.stdout {
				if !strings.Contains(stdout, l) {
					t.Errorf("stdout lacks %q:\n%s", l, stdout)
				}
			}
			if !strings.Contains(stderr, tc.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderr, stderr)
			}
		})
	}
}

func TestPrivacyScan(t *testing.T) {
	dir := t.TempDir()
	values := writeFile(t, filepath.Join(dir, "values.txt"), strings.Join(scanValues, "\n")+"\n")
	clean := filepath.Join(dir, "clean")
	cleanLog := `{"route":"GET /v1.0/users/{id}","tenant":"contoso.example","status":200}` + "\n"
	cleanDB := "SQLite format 3\x00\x01\x02 Adele\x00 Vance\x00"
	writeFile(t, filepath.Join(clean, "gateway.log"), cleanLog)
	writeFile(t, filepath.Join(clean, "data", "usage.db"), cleanDB)
	leaky := filepath.Join(dir, "leaky")
	aLog := `{"q":"displayName eq 'adele vance'"}` + "\nstate=" + base64.RawURLEncoding.EncodeToString([]byte("Søren Ångström")) + "\n"
	bBin := "\x00\x01" + strings.Repeat("adele.vance@contoso.example\x00", 12)
	writeFile(t, filepath.Join(leaky, "a.log"), aLog)
	writeFile(t, filepath.Join(leaky, "b.bin"), bBin)
	short := writeFile(t, filepath.Join(dir, "short.txt"), "Adele Vance\n\nLee\n")
	cleanSize := len(cleanLog) + len(cleanDB)
	leakySize := cleanSize + len(aLog) + len(bBin)

	tests := []scanCase{
		{"clean", []string{"--values", values, clean}, 0,
			[]string{fmt.Sprintf("privacy scan: 2 files, %d bytes scanned, 0 findings", cleanSize)}, ""},
		{"leaks", []string{"--values", values, leaky, clean}, 1, []string{
			fmt.Sprintf("%s/a.log:%d: value 2 (A**********) as plain\n", leaky, strings.Index(aLog, "adele")),
			fmt.Sprintf("%s/a.log:%d: value 4 (S*************) as base64url\n", leaky, strings.Index(aLog, "state=")+6),
			leaky + "/b.bin:2: value 3 (a**************************) as plain\n",
			leaky + "/b.bin:254: value 3 (a**************************) as plain\n" +
				leaky + "/b.bin: value 3 (a**************************) as plain: … and 2 more\n",
			fmt.Sprintf("privacy scan: 4 files, %d bytes scanned, 14 findings", leakySize),
		}, "graphgate: privacy scan: 14 findings"},
		{"the values file itself is not reported", []string{"--values", values, dir}, 1,
			[]string{"privacy scan: 6 files,"}, ""},
		{"no --values", []string{clean}, 2, nil, "usage: graphgate privacy scan --values FILE PATH"},
		{"no PATH", []string{"--values", values}, 2, nil, "usage: graphgate privacy scan"},
		{"missing values file", []string{"--values", filepath.Join(dir, "nope.txt"), clean}, 2, nil, "nope.txt: no such file"},
		{"value too short", []string{"--values", short, clean}, 2, nil, "line 3: value shorter than 4 bytes"},
		{"missing PATH", []string{"--values", values, filepath.Join(dir, "gone")}, 2, nil, "gone: no such file"},
		{"bad flag", []string{"--values", values, "--frobnicate", clean}, 2, nil, "flag provided but not defined"},
	}
	runScanCases(t, tests)
}

// TestPrivacyScanInputs: --help, a path given twice, a link to a directory, values in
// names (masked when printed) and a values file that is not UTF-8.
func TestPrivacyScanInputs(t *testing.T) {
	dir := t.TempDir()
	values := writeFile(t, filepath.Join(dir, "values.txt"), strings.Join(scanValues, "\n")+"\n")
	clean, leaky := filepath.Join(dir, "clean"), filepath.Join(dir, "leaky")
	writeFile(t, filepath.Join(clean, "gateway.log"), "nothing personal\n")
	writeFile(t, filepath.Join(leaky, "a.log"), "name=Adele Vance\n")
	cleanLink, leakyLink := filepath.Join(dir, "clean-link"), filepath.Join(dir, "leaky-link")
	names := filepath.Join(dir, "names")
	writeFile(t, filepath.Join(names, "users", scanValues[2], "state"), "name=Adele Vance\n")
	latin1 := writeFile(t, filepath.Join(dir, "latin1.txt"), "Adele Vance\nS\xf8ren \xc5ngstr\xf6m\n")
	for link, target := range map[string]string{cleanLink: clean, leakyLink: leaky, filepath.Join(names, "loop"): names} {
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
	}
	masked := "a" + strings.Repeat("*", len(scanValues[2])-1)
	tests := []scanCase{
		{"--help", []string{"--help"}, 0, []string{privacyScanUsage + "\n", "-values string"}, ""},
		{"the same path twice", []string{"--values", values, clean, clean + "/", cleanLink}, 0,
			[]string{"privacy scan: 1 files, 17 bytes scanned, 0 findings"}, ""},
		{"a link to a directory", []string{"--values", values, leakyLink}, 1,
			[]string{"privacy scan: 1 files, 17 bytes scanned, 1 findings"}, ""},
		{"values in names, masked in paths", []string{"--values", values, names}, 1, []string{
			names + "/users/" + masked + ": value 3 (" + masked + ") as file name\n",
			names + "/users/" + masked + "/state:5: value 2 (A**********) as plain\n",
			"privacy scan: 1 files, 17 bytes scanned, 2 findings"}, names + ": 1 symlinks not followed"},
		{"values file not UTF-8", []string{"--values", latin1, clean}, 2, nil, "latin1.txt: scan: line 2: invalid UTF-8"},
	}
	runScanCases(t, tests)
}

// TestPrivacyScanUnreadable: a file that cannot be read fails the scan with exit
// status 2, after the others were scanned.
func TestPrivacyScanUnreadable(t *testing.T) {
	if _, err := os.Stat("/proc/self/mem"); err != nil {
		t.Skip("no /proc/self/mem to fail reading")
	}
	dir := t.TempDir()
	values := writeFile(t, filepath.Join(dir, "values.txt"), strings.Join(scanValues, "\n"))
	data := filepath.Join(dir, "data")
	writeFile(t, filepath.Join(data, "ok.log"), "nothing personal\n")
	// Reading a process's memory at offset 0 fails, even for root.
	if err := os.Symlink("/proc/self/mem", filepath.Join(data, "mem")); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := privacyScan(t, "--values", values, data)
	if code != 2 || !strings.Contains(stderr, "mem: input/output error") || !strings.Contains(stdout, "1 files, 17 bytes scanned, 0 findings") {
		t.Errorf("exit code %d, want 2 naming the file\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
}

// TestPrivacyScanInterrupted: cancelling the context passed to run (SIGINT, SIGTERM)
// stops a scan promptly, with exit status 2: a scan that did not finish proves nothing.
func TestPrivacyScanInterrupted(t *testing.T) {
	dir := t.TempDir()
	values := writeFile(t, filepath.Join(dir, "values.txt"), strings.Join(scanValues, "\n"))
	// 32 MB of photos in base64, about 2 s of scanning (base64 is decoded at every
	// alignment).
	photo := make([]byte, 1<<20)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range photo {
		photo[i] = byte(r.Uint32())
	}
	line := `{"photo":"` + base64.StdEncoding.EncodeToString(photo) + "\"}\n"
	big := writeFile(t, filepath.Join(dir, "photos.json"), strings.Repeat(line, (32<<20)/len(line)))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	timer := time.AfterFunc(100*time.Millisecond, cancel)
	defer timer.Stop()
	var out, errOut bytes.Buffer
	start := time.Now()
	err := run(ctx, []string{"graphgate", "privacy", "scan", "--values", values, big}, func(string) string { return "" }, &out, &errOut)
	if took := time.Since(start); err == nil || exitCode(err) != 2 || !strings.Contains(err.Error(), "privacy scan: interrupted") {
		t.Errorf("after %v: %v (exit code %d), want exit code 2, interrupted\nstdout:\n%s", took, err, exitCode(err), out.String())
	}
}
