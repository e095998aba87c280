package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// bailExitCode is the exit code @pulumi/pulumi's run script uses after it has already
// reported a user-actionable error through the engine; the engine must not repeat it.
const bailExitCode = 32

// nodeHost implements pulumirpc.LanguageRuntimeServer for Node.js programs.
type nodeHost struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	engineAddress string
}

// Handshake accepts the engine's handshake; all it carries is already known.
func (h *nodeHost) Handshake(ctx context.Context, req *pulumirpc.LanguageHandshakeRequest) (*pulumirpc.LanguageHandshakeResponse, error) {
	if req.GetEngineAddress() != "" {
		h.engineAddress = req.GetEngineAddress()
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

// GetPluginInfo reports this host's version.
func (h *nodeHost) GetPluginInfo(ctx context.Context, _ *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: strings.TrimPrefix(version, "v")}, nil
}

// GetRequiredPlugins reports none: smartfleet's only provider is the dynamic-provider
// shim shipped in @pulumi/pulumi, which the engine finds on PATH, and the toolchain
// never downloads plugins.
func (h *nodeHost) GetRequiredPlugins(ctx context.Context, req *pulumirpc.GetRequiredPluginsRequest) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

// GetRequiredPackages reports none, for the same reason as GetRequiredPlugins.
func (h *nodeHost) GetRequiredPackages(ctx context.Context, req *pulumirpc.GetRequiredPackagesRequest) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

// RuntimeOptionsPrompts asks nothing: the project's Pulumi.yaml sets the options.
func (h *nodeHost) RuntimeOptionsPrompts(ctx context.Context, req *pulumirpc.RuntimeOptionsRequest) (*pulumirpc.RuntimeOptionsResponse, error) {
	return &pulumirpc.RuntimeOptionsResponse{}, nil
}

// About reports the Node.js executable and its version.
func (h *nodeHost) About(ctx context.Context, req *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("node not found on PATH: %w", err)
	}
	out, err := exec.CommandContext(ctx, node, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("running %s --version: %w", node, err)
	}
	return &pulumirpc.AboutResponse{Executable: node, Version: strings.TrimSpace(string(out))}, nil
}

// GetProgramDependencies lists nothing; `npm ls` is the tool for that.
func (h *nodeHost) GetProgramDependencies(ctx context.Context, req *pulumirpc.GetProgramDependenciesRequest) (*pulumirpc.GetProgramDependenciesResponse, error) {
	return &pulumirpc.GetProgramDependenciesResponse{}, nil
}

// InstallDependencies runs `npm install` in the program directory, streaming its output.
func (h *nodeHost) InstallDependencies(req *pulumirpc.InstallDependenciesRequest, stream grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse]) error {
	dir := req.GetInfo().GetProgramDirectory()
	cmd := exec.CommandContext(stream.Context(), "npm", "install")
	cmd.Dir = dir
	send := func(stdout, stderr []byte) error {
		return stream.Send(&pulumirpc.InstallDependenciesResponse{Stdout: stdout, Stderr: stderr})
	}
	cmd.Stdout = writerFunc(func(p []byte) error { return send(p, nil) })
	cmd.Stderr = writerFunc(func(p []byte) error { return send(nil, p) })
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("npm install in %s: %w", dir, err)
	}
	return nil
}

// Run runs a Pulumi program with @pulumi/pulumi's cmd/run entry point.
func (h *nodeHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	dir := programDirectory(req.GetInfo(), req.GetPwd())
	runScript, err := resolveModule(ctx, dir, "@pulumi/pulumi/cmd/run")
	if err != nil {
		return nil, err
	}
	configJSONText, err := configJSON(req.GetConfig())
	if err != nil {
		return nil, fmt.Errorf("encoding config: %w", err)
	}
	secretKeys, err := json.Marshal(emptyIfNil(req.GetConfigSecretKeys()))
	if err != nil {
		return nil, fmt.Errorf("encoding secret config keys: %w", err)
	}

	args := append(nodeArgs(req.GetInfo()), runScript,
		"--monitor", req.GetMonitorAddress(),
		"--engine", h.engineAddress,
		"--organization", req.GetOrganization(),
		"--project", req.GetProject(),
		"--stack", req.GetStack(),
		"--pwd", dir,
		"--root-directory", req.GetInfo().GetRootDirectory(),
	)
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	if req.GetParallel() > 0 {
		args = append(args, "--parallel", strconv.Itoa(int(req.GetParallel())))
	}
	args = append(args, entryPoint(req.GetInfo()))
	args = append(args, req.GetArgs()...)

	cmd := exec.CommandContext(ctx, "node", args...)
	cmd.Dir = dir
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	cmd.Env = append(os.Environ(),
		"PULUMI_CONFIG="+configJSONText,
		"PULUMI_CONFIG_SECRET_KEYS="+string(secretKeys),
		"PULUMI_NODEJS_TYPESCRIPT="+strconv.FormatBool(optionBool(req.GetInfo(), "typescript", true)),
	)
	err = cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return &pulumirpc.RunResponse{}, nil
	case errors.As(err, &exitErr) && exitErr.ExitCode() == bailExitCode:
		return &pulumirpc.RunResponse{Bail: true}, nil
	case errors.As(err, &exitErr):
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("Program exited with non-zero exit code: %d", exitErr.ExitCode())}, nil
	default:
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("could not start node: %v", err)}, nil
	}
}

// RunPlugin runs a Node.js plugin: a CrossGuard policy pack (kind "analyzer") with
// cmd/run-policy-pack, or a provider plugin with cmd/run-plugin.
func (h *nodeHost) RunPlugin(req *pulumirpc.RunPluginRequest, stream grpc.ServerStreamingServer[pulumirpc.RunPluginResponse]) error {
	dir := programDirectory(req.GetInfo(), req.GetPwd())
	entry := "@pulumi/pulumi/cmd/run-plugin"
	if req.GetKind() == "analyzer" {
		entry = "@pulumi/pulumi/cmd/run-policy-pack"
	}
	script, err := resolveModule(stream.Context(), dir, entry)
	if err != nil {
		return err
	}
	args := append(nodeArgs(req.GetInfo()), script)
	args = append(args, req.GetArgs()...)
	args = append(args, dir)

	cmd := exec.CommandContext(stream.Context(), "node", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), req.GetEnv()...)
	var mu sync.Mutex // gRPC streams are not safe for concurrent Send
	send := func(r *pulumirpc.RunPluginResponse) error {
		mu.Lock()
		defer mu.Unlock()
		return stream.Send(r)
	}
	cmd.Stdout = writerFunc(func(p []byte) error {
		return send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stdout{Stdout: p}})
	})
	cmd.Stderr = writerFunc(func(p []byte) error {
		return send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stderr{Stderr: p}})
	})
	code := int32(0)
	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) {
			return fmt.Errorf("running %s: %w", entry, err)
		}
		code = int32(exitErr.ExitCode())
	}
	return send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: code}})
}

// programDirectory is where the program (or plugin) lives and runs.
func programDirectory(info *pulumirpc.ProgramInfo, pwd string) string {
	if d := info.GetProgramDirectory(); d != "" {
		return d
	}
	return pwd
}

// entryPoint is the program's main module relative to its directory ("." lets
// @pulumi/pulumi read package.json's "main").
func entryPoint(info *pulumirpc.ProgramInfo) string {
	if e := info.GetEntryPoint(); e != "" {
		return e
	}
	return "."
}

// nodeArgs passes the project's `nodeargs` runtime option through to node.
func nodeArgs(info *pulumirpc.ProgramInfo) []string {
	if v, ok := info.GetOptions().GetFields()["nodeargs"]; ok {
		return strings.Fields(v.GetStringValue())
	}
	return nil
}

// optionBool reads a boolean runtime option from Pulumi.yaml.
func optionBool(info *pulumirpc.ProgramInfo, name string, fallback bool) bool {
	if v, ok := info.GetOptions().GetFields()[name]; ok {
		return v.GetBoolValue()
	}
	return fallback
}

// resolveModule finds a module the way the program itself would (node's resolution from
// dir), so the entry point always matches the project's installed @pulumi/pulumi.
func resolveModule(ctx context.Context, dir, module string) (string, error) {
	cmd := exec.CommandContext(ctx, "node", "-e", "process.stdout.write(require.resolve(process.argv[1]))", module)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("cannot find %s from %s (run `npm ci` in the project): %w", module, filepath.Clean(dir), err)
	}
	return string(out), nil
}

func emptyIfNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// writerFunc adapts a callback to io.Writer, copying each chunk before handing it over.
type writerFunc func(p []byte) error

func (f writerFunc) Write(p []byte) (int, error) {
	chunk := append([]byte(nil), p...)
	if err := f(chunk); err != nil {
		return 0, err
	}
	return len(p), nil
}

var _ io.Writer = writerFunc(nil)
