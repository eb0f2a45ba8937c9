package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/graphgate/graphgate/graph/emulator"
)

// runEmulator runs the Graph/Entra emulator on its own until interrupted.
func runEmulator(env cmdEnv, args []string) error {
	fs := flag.NewFlagSet("emulator", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	addr := fs.String("addr", "127.0.0.1:8443", "listen address (HTTPS)")
	caOut := fs.String("ca-out", "", "write the emulator's CA certificate (PEM) to this file, for graphgate serve's ca_file")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	replication := fs.Duration("replication-delay", 0,
		"how long a user change takes to reach advanced queries and the token service (0 = at once)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log, err := newLogger(env.stderr, *logLevel)
	if err != nil {
		return err
	}
	emu, err := emulator.New(emulator.Options{Addr: *addr, Logger: log, ReplicationDelay: *replication})
	if err != nil {
		return err
	}
	defer emu.Close()
	if *caOut != "" {
		if err := os.WriteFile(*caOut, emu.CACertPEM(), 0o644); err != nil {
			return fmt.Errorf("ca-out: %w", err)
		}
	}
	line, _ := json.Marshal(map[string]string{
		"emulator_url":  emu.URL(),
		"directory_url": emu.URL() + "/_emulator/directory",
	})
	fmt.Fprintf(env.stdout, "%s\ngraphgate emulator serving Entra ID and Microsoft Graph at %s (self-signed: use curl -k)\n", line, emu.URL())
	<-env.ctx.Done()
	return nil
}
