package kerneltest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// envProbeChild makes the test binary print Available's answer and exit:
// TestAvailable_NeedsPerfmon runs it again with fewer privileges.
const envProbeChild = "DATAPLANE_KERNELTEST_PROBE_CHILD"

func init() {
	if os.Getenv(envProbeChild) == "1" {
		fmt.Printf("available: %v\n", Available())
		os.Exit(0)
	}
}

// TestAvailable_NeedsPerfmon: with CAP_BPF and CAP_NET_ADMIN but not
// CAP_PERFMON the verifier refuses every kernel (their parser subtracts
// packet pointers), so Available must say BPF cannot run, and kernel tests
// skip; with CAP_PERFMON too it must say they can. It reruns the test
// binary as an unprivileged user holding those capabilities, so it needs
// root and setpriv.
func TestAvailable_NeedsPerfmon(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root, to run a child with chosen capabilities")
	}
	if err := Available(); err != nil {
		t.Skipf("BPF programs cannot run here at all: %v", err)
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("needs setpriv (util-linux)")
	}
	// A copy of the test binary that the unprivileged user can execute.
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	self, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "kerneltest.test")
	if err := os.WriteFile(bin, self, 0o755); err != nil {
		t.Fatal(err)
	}
	run := func(caps string) string {
		cmd := exec.Command(setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
			"--inh-caps="+caps, "--ambient-caps="+caps, bin)
		cmd.Env = append(os.Environ(), envProbeChild+"=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child with %s: %v\n%s", caps, err, out)
		}
		return string(out)
	}
	if out := run("+bpf,+net_admin"); !strings.Contains(out, "subtracts packet pointers") || !strings.Contains(out, "CAP_PERFMON") {
		t.Errorf("CAP_BPF and CAP_NET_ADMIN only: %q, want an answer naming CAP_PERFMON", out)
	}
	if out := run("+bpf,+net_admin,+perfmon"); strings.TrimSpace(out) != "available: <nil>" {
		t.Errorf("CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON: %q, want available", out)
	}
}
