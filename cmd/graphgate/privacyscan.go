package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/graphgate/graphgate/proxy/privacy/scan"
)

const privacyScanUsage = "usage: graphgate privacy scan --values FILE PATH [PATH...]"

// maxShown is how many findings of one value in one form are printed per file; the
// rest are counted in a summary line.
const maxShown = 10

// runPrivacy runs "graphgate privacy scan".
func runPrivacy(env cmdEnv, args []string) error {
	if len(args) == 0 || args[0] != "scan" {
		return &exitCodeError{code: 2, err: errors.New(privacyScanUsage)}
	}
	return runPrivacyScan(env, args[1:])
}

// runPrivacyScan runs "graphgate privacy scan --values FILE PATH...": it looks for every
// value of FILE, in every form a leak takes, in the files and directories given, and
// prints each finding with the value masked. Exit status: 0 clean, 1 something found,
// 2 bad input or a file that could not be read (nothing found elsewhere).
func runPrivacyScan(env cmdEnv, args []string) error {
	fs := flag.NewFlagSet("privacy scan", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	valuesFile := fs.String("values", "", "file of personal values to look for, one per line (each at least 4 bytes)")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error (accepted for uniformity)")
	fs.Usage = func() {
		fmt.Fprintln(env.stderr, privacyScanUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return &exitCodeError{code: 2, err: err}
	}
	if _, err := newLogger(env.stderr, *logLevel); err != nil {
		return &exitCodeError{code: 2, err: err}
	}
	if *valuesFile == "" || fs.NArg() == 0 {
		return &exitCodeError{code: 2, err: errors.New(privacyScanUsage)}
	}
	s, valuesInfo, err := loadScanner(*valuesFile)
	if err != nil {
		return &exitCodeError{code: 2, err: err}
	}
	for _, p := range fs.Args() {
		if _, err := os.Stat(p); err != nil {
			return &exitCodeError{code: 2, err: fmt.Errorf("privacy scan: %w", err)}
		}
	}
	var files int
	var size int64
	var findings []scan.Finding
	unreadable := false
	for _, p := range fs.Args() {
		n, b, f, err := s.Tree(p)
		files, size, findings = files+n, size+b, append(findings, withoutFile(f, valuesInfo)...)
		for _, e := range unjoin(err) {
			fmt.Fprintln(env.stderr, "graphgate: privacy scan:", e)
			unreadable = true
		}
	}
	printFindings(env.stdout, findings)
	fmt.Fprintf(env.stdout, "privacy scan: %d files, %d bytes scanned, %d findings\n", files, size, len(findings))
	switch {
	case len(findings) > 0:
		return &exitCodeError{code: 1, err: fmt.Errorf("privacy scan: %d findings", len(findings))}
	case unreadable:
		return &exitCodeError{code: 2, err: errors.New("privacy scan: some files could not be read, so the scan proves nothing about them")}
	}
	return nil
}

// loadScanner reads the values file and builds a scanner for it.
func loadScanner(path string) (*scan.Scanner, os.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("privacy scan: values: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("privacy scan: values: %w", err)
	}
	values, err := scan.ReadValues(f)
	if err != nil {
		return nil, nil, fmt.Errorf("privacy scan: %s: %w", path, err)
	}
	if len(values) == 0 {
		return nil, nil, fmt.Errorf("privacy scan: %s holds no values", path)
	}
	s, err := scan.New(values)
	if err != nil {
		return nil, nil, fmt.Errorf("privacy scan: %s: %w", path, err)
	}
	return s, info, nil
}

// withoutFile drops the findings in the values file itself, when it lies under a
// scanned directory.
func withoutFile(findings []scan.Finding, values os.FileInfo) []scan.Finding {
	out := findings[:0]
	for _, f := range findings {
		if fi, err := os.Stat(f.Where); err == nil && os.SameFile(fi, values) {
			continue
		}
		out = append(out, f)
	}
	return out
}

// unjoin returns the errors joined in err.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	if err != nil {
		return []error{err}
	}
	return nil
}

// printFindings prints each finding on a line, at most maxShown of one value in one form
// per file, followed by a line counting the rest.
func printFindings(w io.Writer, findings []scan.Finding) {
	type group struct{ where, label, form string }
	count := map[group]int{}
	var over []scan.Finding // the first finding left out of each group of the file
	for i, f := range findings {
		g := group{f.Where, f.Value.Label, f.Form}
		count[g]++
		if n := count[g]; n <= maxShown {
			fmt.Fprintln(w, f)
		} else if n == maxShown+1 {
			over = append(over, f)
		}
		if i+1 < len(findings) && findings[i+1].Where == f.Where {
			continue
		}
		for _, o := range over {
			fmt.Fprintf(w, "%s: %s (%s) as %s: … and %d more\n", o.Where, o.Value.Label, o.Value.Masked(), o.Form,
				count[group{o.Where, o.Value.Label, o.Form}]-maxShown)
		}
		over = over[:0]
	}
}
