package main

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/graphgate/graphgate/policy"
)

// runPolicy runs "graphgate policy check FILE": it validates a policy and prints every
// problem with its line number.
func runPolicy(env cmdEnv, args []string) error {
	if len(args) == 0 || args[0] != "check" {
		return &exitCodeError{code: 2, err: errors.New("usage: graphgate policy check FILE")}
	}
	fs := flag.NewFlagSet("policy check", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error (accepted for uniformity)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if _, err := newLogger(env.stderr, *logLevel); err != nil {
		return &exitCodeError{code: 2, err: err}
	}
	if fs.NArg() != 1 {
		return &exitCodeError{code: 2, err: errors.New("usage: graphgate policy check FILE")}
	}
	file := fs.Arg(0)
	raw, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	p, err := policy.Parse(raw)
	if err != nil {
		var perr *policy.Error
		if errors.As(err, &perr) {
			perr.Name = file
			fmt.Fprintln(env.stdout, perr.Error())
			return &exitCodeError{code: 1, err: fmt.Errorf("%s: %d problem(s)", file, len(perr.Problems))}
		}
		return fmt.Errorf("%s: %w", file, err)
	}
	fmt.Fprintf(env.stdout, "%s: ok (%d client apps)\n", file, len(p.Clients()))
	return nil
}
