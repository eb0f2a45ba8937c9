package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

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
// value of FILE, in every form a leak takes, in the files and directories given and in
// the names under them, and prints each finding with the value masked. Exit status: 0
// clean, 1 something found, 2 bad input, an interrupted scan, or a file that could not
// be read (nothing found elsewhere).
func runPrivacyScan(env cmdEnv, args []string) error {
	valuesFile, paths, err := parsePrivacyScan(env, args)
	if err != nil || valuesFile == "" {
		return err
	}
	s, valuesInfo, err := loadScanner(valuesFile)
	if err != nil {
		return &exitCodeError{code: 2, err: err}
	}
	if paths, err = scanPaths(s, paths); err != nil {
		return &exitCodeError{code: 2, err: err}
	}
	var res scan.TreeResult
	unreadable := false
	for _, p := range paths {
		r, err := s.TreeContext(env.ctx, p)
		if env.ctx.Err() != nil {
			return &exitCodeError{code: 2, err: errors.New("privacy scan: interrupted (a scan that did not finish proves nothing)")}
		}
		res.Files, res.Bytes, res.Findings = res.Files+r.Files, res.Bytes+r.Bytes, append(res.Findings, withoutFile(r.Findings, valuesInfo)...)
		for _, n := range r.Notes {
			fmt.Fprintln(env.stderr, "graphgate: privacy scan:", n)
		}
		for _, e := range unjoin(err) {
			fmt.Fprintln(env.stderr, "graphgate: privacy scan:", s.MaskPath(e.Error()))
			unreadable = true
		}
	}
	printFindings(env.stdout, res.Findings)
	fmt.Fprintf(env.stdout, "privacy scan: %d files, %d bytes scanned, %d findings\n", res.Files, res.Bytes, len(res.Findings))
	switch {
	case len(res.Findings) > 0:
		return &exitCodeError{code: 1, err: fmt.Errorf("privacy scan: %d findings", len(res.Findings))}
	case unreadable:
		return &exitCodeError{code: 2, err: errors.New("privacy scan: some files could not be read, so the scan proves nothing about them")}
	}
	return nil
}

// parsePrivacyScan parses the arguments of "graphgate privacy scan". With --help it
// prints the usage on stdout and returns no values file and no error.
func parsePrivacyScan(env cmdEnv, args []string) (valuesFile string, paths []string, err error) {
	fs := flag.NewFlagSet("privacy scan", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	values := fs.String("values", "", "file of personal values to look for, one per line (UTF-8, each at least 4 bytes)")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error (accepted for uniformity)")
	fs.Usage = func() {}
	usage := func(w io.Writer) {
		fmt.Fprintln(w, privacyScanUsage)
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		usage(env.stdout)
		return "", nil, nil
	} else if err != nil {
		usage(env.stderr)
		return "", nil, &exitCodeError{code: 2, err: err}
	}
	if _, err := newLogger(env.stderr, *logLevel); err != nil {
		return "", nil, &exitCodeError{code: 2, err: err}
	}
	if *values == "" || fs.NArg() == 0 {
		return "", nil, &exitCodeError{code: 2, err: errors.New(privacyScanUsage)}
	}
	return *values, fs.Args(), nil
}

// scanPaths checks that every path is a regular file or a directory, without opening
// it (a FIFO would block), and drops the paths that resolve to one already given.
func scanPaths(s *scan.Scanner, paths []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, p := range paths {
		fi, err := os.Stat(p)
		switch {
		case err != nil:
			return nil, fmt.Errorf("privacy scan: %s", s.MaskPath(err.Error()))
		case !fi.Mode().IsRegular() && !fi.IsDir():
			return nil, fmt.Errorf("privacy scan: %s: %s, not a regular file or directory", s.MaskPath(p), scan.FileKind(fi.Mode()))
		}
		key, err := filepath.EvalSymlinks(p)
		if err == nil {
			key, err = filepath.Abs(key)
		}
		if err != nil {
			return nil, fmt.Errorf("privacy scan: %s", s.MaskPath(err.Error()))
		}
		if !seen[key] {
			seen[key] = true
			out = append(out, p)
		}
	}
	return out, nil
}

// loadScanner reads the values file, which must be a regular file (checked before it is
// opened), and builds a scanner for it.
func loadScanner(path string) (*scan.Scanner, os.FileInfo, error) {
	if fi, err := os.Stat(path); err != nil {
		return nil, nil, fmt.Errorf("privacy scan: values: %w", err)
	} else if !fi.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("privacy scan: values: %s: %s, not a regular file", path, scan.FileKind(fi.Mode()))
	}
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
			fmt.Fprintf(w, "%s: %s (%s) as %s: … and %d more\n", o.MaskedWhere(), o.Value.Label, o.Value.Masked(), o.Form,
				count[group{o.Where, o.Value.Label, o.Form}]-maxShown)
		}
		over = over[:0]
	}
}
