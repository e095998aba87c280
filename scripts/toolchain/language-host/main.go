// Command pulumi-language-nodejs is smartfleet's Node.js language host for the Pulumi
// engine. The Go module proxy reachable from our build machines serves the Pulumi CLI
// (github.com/pulumi/pulumi/pkg/v3) but refuses every version of the upstream
// language-host module, so the toolchain builds this one instead. It speaks the same
// LanguageRuntime gRPC protocol and, like the upstream host, runs the Node.js entry
// points shipped inside the project's @pulumi/pulumi package (cmd/run for programs,
// cmd/run-policy-pack for CrossGuard packs, cmd/run-plugin for plugins); everything
// else (engine, state, diffs, dynamic providers) is Pulumi's own code.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
)

// version is stamped by the toolchain build with -ldflags -X main.version=...
var version = "dev"

func main() {
	args := os.Args[1:]
	// The engine passes its own address as the last positional argument; flags before
	// it (-root=..., -tracing=...) are accepted for compatibility and not needed here.
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: pulumi-language-nodejs [flags] <engine-address>")
		os.Exit(2)
	}
	engineAddress := args[len(args)-1]
	exitWhenEngineGone()

	host := &nodeHost{engineAddress: engineAddress}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, host)
			return nil
		},
		Options: rpcutil.TracingServerInterceptorOptions(nil),
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: could not start: %v\n", err)
		os.Exit(1)
	}
	// The engine reads the port from the first line of stdout.
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: %v\n", err)
		os.Exit(1)
	}
}

// exitWhenEngineGone ends the host when the engine that started it is gone (killed with
// SIGKILL, say): nothing else would, and a host left behind waits forever. The engine
// holds the only write end of the pipe on our stdin, so its end of file means the engine
// is gone; a changed parent (reparented) means the same. The host's children (a program,
// a policy pack) share its process group, which the engine made ours: they go with it.
// Nothing is printed: our stdout and stderr went to the engine.
func exitWhenEngineGone() {
	parent := os.Getppid()
	gone := make(chan struct{}, 2)
	if info, err := os.Stdin.Stat(); err == nil && info.Mode()&os.ModeNamedPipe != 0 {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			gone <- struct{}{}
		}()
	}
	go func() {
		for os.Getppid() == parent {
			time.Sleep(500 * time.Millisecond)
		}
		gone <- struct{}{}
	}()
	go func() {
		<-gone
		if pid := os.Getpid(); syscall.Getpgrp() == pid {
			_ = syscall.Kill(-pid, syscall.SIGTERM)
		}
		os.Exit(1)
	}()
}

// configJSON renders a string map as the JSON object @pulumi/pulumi reads from PULUMI_CONFIG.
func configJSON(config map[string]string) (string, error) {
	if config == nil {
		config = map[string]string{}
	}
	b, err := json.Marshal(config)
	return string(b), err
}
