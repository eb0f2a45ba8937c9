// Command graphgate is a data-minimising gateway in front of Microsoft Graph.
//
// Subcommands:
//
//	graphgate serve --config FILE      run the gateway
//	graphgate demo                     run the gateway with a built-in Graph/Entra emulator
//	graphgate emulator --addr ADDR     run only the emulator
//	graphgate policy check FILE        validate a policy file
//	graphgate privacy scan --values FILE PATH...
//	                                   look for personal values in files, in every form a leak takes
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The first signal starts the graceful stop (drain, then grace); a second one ends
	// the process at once, as the signal's default does.
	go func() {
		<-ctx.Done()
		stop()
	}()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "graphgate:", err)
		}
		os.Exit(exitCode(err))
	}
}

// exitCodeError carries a specific process exit code.
type exitCodeError struct {
	code int
	err  error
}

func (e *exitCodeError) Error() string { return e.err.Error() }
func (e *exitCodeError) Unwrap() error { return e.err }

func exitCode(err error) int {
	var ec *exitCodeError
	if errors.As(err, &ec) {
		return ec.code
	}
	if errors.Is(err, flag.ErrHelp) {
		return 2
	}
	return 1
}

const usage = `usage: graphgate <command> [flags]

commands:
  serve --config FILE        run the gateway
  demo                       run the gateway with a built-in Graph/Entra emulator
  emulator --addr ADDR       run only the Graph/Entra emulator
  policy check FILE          validate a policy file
  usage export --from --to   export released usage aggregates (csv|json)
  privacy scan --values FILE PATH...
                             look for the values of FILE (one per line) in the files
                             and directories given, in every form a leak takes

Every command accepts --log-level debug|info|warn|error.
`

// run is graphgate's whole program: main only supplies the process's context, arguments,
// environment and output streams.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) < 2 {
		fmt.Fprint(stderr, usage)
		return &exitCodeError{code: 2, err: errors.New("no command given")}
	}
	cmd, rest := args[1], args[2:]
	env := cmdEnv{ctx: ctx, getenv: getenv, stdout: stdout, stderr: stderr}
	switch cmd {
	case "serve":
		return runServe(env, rest)
	case "demo":
		return runDemo(env, rest)
	case "emulator":
		return runEmulator(env, rest)
	case "policy":
		return runPolicy(env, rest)
	case "usage":
		return runUsage(env, rest)
	case "privacy":
		return runPrivacy(env, rest)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return &exitCodeError{code: 2, err: fmt.Errorf("unknown command %q", cmd)}
	}
}

// cmdEnv is what every subcommand receives from run.
type cmdEnv struct {
	ctx    context.Context
	getenv func(string) string
	stdout io.Writer
	stderr io.Writer
}
