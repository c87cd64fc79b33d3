package kerneltest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
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

// TestAvailable_NeedsPerfmon: without CAP_NET_ADMIN no XDP program
// loads, and Available must name it (cilium/ebpf's error blames
// MEMLOCK). With CAP_BPF and CAP_NET_ADMIN but not CAP_PERFMON the
// verifier refuses every kernel (their parser subtracts packet pointers),
// so Available must say BPF cannot run, and kernel tests skip; with
// CAP_PERFMON too it must say they can. It reruns the test
// binary as an unprivileged user holding those capabilities, so it needs
// root and setpriv.
func TestAvailable_NeedsPerfmon(t *testing.T) {
	setpriv, bin := capsChild(t)
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
	if out := run("+bpf,+perfmon"); !strings.Contains(out, "CAP_NET_ADMIN") {
		t.Errorf("CAP_BPF and CAP_PERFMON only: %q, want an answer naming CAP_NET_ADMIN", out)
	}
	if out := run("+bpf,+net_admin"); !strings.Contains(out, "subtracts packet pointers") || !strings.Contains(out, "CAP_PERFMON") {
		t.Errorf("CAP_BPF and CAP_NET_ADMIN only: %q, want an answer naming CAP_PERFMON", out)
	}
	if out := run("+bpf,+net_admin,+perfmon"); strings.TrimSpace(out) != "available: <nil>" {
		t.Errorf("CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON: %q, want available", out)
	}
}

// TestLoopbackUDP: a datagram of the largest UDP payload crosses the
// loopback of a namespace of its own with an XDP_PASS program attached.
func TestLoopbackUDP(t *testing.T) {
	RequireNetns(t)
	prog, err := newReturn(2) // XDP_PASS
	if err != nil {
		t.Fatal(err)
	}
	defer prog.Close()
	if err := LoopbackUDP(prog, make([]byte, 65507)); err != nil {
		t.Fatal(err)
	}
}

// TestLoopbackUDP_Dropped: under an XDP_DROP program SendUDP reports a
// datagram that never arrived, after its wait and with no error.
func TestLoopbackUDP_Dropped(t *testing.T) {
	RequireNetns(t)
	prog, err := newReturn(1) // XDP_DROP
	if err != nil {
		t.Fatal(err)
	}
	defer prog.Close()
	err = InLoopback(func(lo int) error {
		l, err := link.AttachXDP(link.XDPOptions{Program: prog, Interface: lo, Flags: link.XDPGenericMode})
		if err != nil {
			return err
		}
		defer l.Close()
		start := time.Now()
		arrived, err := SendUDP(40000, []byte("dropped"), 100*time.Millisecond)
		if err != nil || arrived {
			return fmt.Errorf("SendUDP under XDP_DROP: arrived %v, err %v; want false, nil", arrived, err)
		}
		if waited := time.Since(start); waited < 100*time.Millisecond {
			return fmt.Errorf("SendUDP gave up after %v, before its wait of 100ms", waited)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestSendUDP_Wait: a wait under a microsecond, which the socket would
// take as no timeout at all, is refused before anything is sent.
func TestSendUDP_Wait(t *testing.T) {
	for _, w := range []time.Duration{0, -time.Second, time.Nanosecond} {
		if _, err := SendUDP(40000, nil, w); err == nil || !strings.Contains(err.Error(), "wait must be at least 1µs") {
			t.Errorf("SendUDP with wait %v: %v, want the wait refused", w, err)
		}
	}
}

// TestMapFreed: a map is gone once closed, and a map still open is not.
func TestMapFreed(t *testing.T) {
	Require(t)
	m, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: 1})
	if err != nil {
		t.Fatal(err)
	}
	id := MapID(t, m)
	if MapFreed(t, id, 0) {
		t.Fatalf("map %d freed while open", id)
	}
	m.Close()
	if !MapFreed(t, id, time.Second) {
		t.Fatalf("map %d still in the kernel 1 s after Close", id)
	}
}

// TestNeedsSysAdmin: a process with CAP_BPF, CAP_PERFMON and
// CAP_NET_ADMIN runs BPF programs but can neither make a network
// namespace nor look a map up by ID (both take CAP_SYS_ADMIN), so
// TestLoopbackUDP and TestMapFreed, like the kernels' long-frame and
// Close tests, must skip there, naming CAP_SYS_ADMIN, not fail as they
// did; and fail when DATAPLANE_REQUIRE_KERNEL=1. It reruns the test
// binary as an unprivileged user holding those capabilities, so it needs
// root and setpriv.
func TestNeedsSysAdmin(t *testing.T) {
	setpriv, bin := capsChild(t)
	const caps = "+bpf,+perfmon,+net_admin"
	for _, test := range []string{"TestLoopbackUDP", "TestMapFreed"} {
		for _, require := range []string{"", "1"} {
			cmd := exec.Command(setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
				"--inh-caps="+caps, "--ambient-caps="+caps, bin, "-test.run=^"+test+"$", "-test.v")
			cmd.Env = append(os.Environ(), EnvRequire+"="+require)
			out, err := cmd.CombinedOutput()
			switch {
			case require == "" && (err != nil || !strings.Contains(string(out), "--- SKIP: "+test)):
				t.Errorf("%s with %s: %v, want it skipped:\n%s", test, caps, err, out)
			case require == "1" && (err == nil || !strings.Contains(string(out), "--- FAIL: "+test)):
				t.Errorf("%s with %s and %s=1: %v, want it failed:\n%s", test, caps, EnvRequire, err, out)
			case !strings.Contains(string(out), "CAP_SYS_ADMIN"):
				t.Errorf("%s with %s (%s=%q): the skip does not name CAP_SYS_ADMIN:\n%s", test, caps, EnvRequire, require, out)
			}
		}
	}
}

// unprivilegedCopy returns the path of a copy of the test binary that
// any user can execute.
func unprivilegedCopy(t *testing.T) string {
	t.Helper()
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
	return bin
}

// capsChild returns setpriv's path and a copy of the test binary that an
// unprivileged user can run, for the tests that rerun it with chosen
// capabilities; it skips unless this process is root, BPF runs here at
// all, and setpriv is installed (failing instead where the environment
// requires the kernel tests: see Skip).
func capsChild(t *testing.T) (setpriv, bin string) {
	t.Helper()
	if os.Geteuid() != 0 {
		Skip(t, "needs root, to run a child with chosen capabilities")
	}
	if err := Available(); err != nil {
		Skip(t, fmt.Sprintf("BPF programs cannot run here at all: %v", err))
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		Skip(t, "needs setpriv (util-linux)")
	}
	return setpriv, unprivilegedCopy(t)
}
