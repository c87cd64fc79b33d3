//go:build linux

package main

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestCommand: the ip and sysctl children run in a process group of their
// own, so a Ctrl-C at the terminal cannot kill one half way.
func TestCommand(t *testing.T) {
	c := command("ip", "netns", "list")
	if c.SysProcAttr == nil || !c.SysProcAttr.Setpgid {
		t.Fatalf("command: SysProcAttr %+v, want Setpgid", c.SysProcAttr)
	}
}

// TestTopoClose: close deletes every recorded namespace, and a recorded
// one that was never made (its "ip netns add" was killed before making
// it) is no error. With IPv6, whose addNS also sets a sysctl inside the
// new namespace, too. A namespace whose name is taken already is another
// run's (the same pid in another pid namespace, or a killed run's): addNS
// refuses it, saying so, and close leaves it alone. It used to record the
// name all the same, and close deleted the other run's namespace.
func TestTopoClose(t *testing.T) {
	requireNetns(t)
	for _, f := range families {
		t.Run(f.String(), func(t *testing.T) { testTopoClose(t, f) })
	}
}

func testTopoClose(t *testing.T, f family) {
	prefix := fmt.Sprintf("l4lbt%d", os.Getpid())
	// Deleted even when a step below fails.
	other := &topo{prefix: prefix, fam: f}
	top := &topo{prefix: prefix, fam: f}
	t.Cleanup(func() {
		top.close()
		other.close()
	})
	if err := other.addNS("a"); err != nil {
		t.Fatal(err)
	}
	// A second add of the same name fails, and is not recorded: the
	// namespace is not this topo's.
	err := top.addNS("a")
	if err == nil || !strings.Contains(err.Error(), "namespace "+top.name("a")+" exists already") {
		t.Errorf("addNS of a namespace that exists: %v, want an error saying so", err)
	}
	if err := other.addNS("a"); err == nil {
		t.Errorf("second addNS of the same namespace succeeded")
	}
	top.ns = append(top.ns, top.name("never-made"))
	if err := top.close(); err != nil {
		t.Errorf("close: %v", err)
	}
	if _, err := os.Stat("/run/netns/" + other.name("a")); err != nil {
		t.Errorf("close of a topo whose addNS failed deleted the namespace another one made: %v", err)
	}
	if err := other.close(); err != nil {
		t.Errorf("close: %v", err)
	}
	out, _ := exec.Command("ip", "netns", "list").Output()
	if strings.Contains(string(out), prefix) {
		t.Errorf("namespaces left behind:\n%s", out)
	}
}

// TestCommandError: a failed command's error names the command line and
// the failure, and ends with its output if it printed any (it used to
// end in ": " when ip printed nothing).
func TestCommandError(t *testing.T) {
	fail := errors.New("exit status 1")
	argv := []string{"ip", "netns", "add", "x"}
	if err := commandError(argv, nil, []byte("noise")); err != nil {
		t.Errorf("success: %v", err)
	}
	for _, c := range []struct{ out, want string }{
		{"", "ip netns add x: exit status 1"},
		{" \n", "ip netns add x: exit status 1"},
		{"File exists\n", "ip netns add x: exit status 1: File exists"},
	} {
		err := commandError(argv, fail, []byte(c.out))
		if err == nil || err.Error() != c.want || !errors.Is(err, fail) {
			t.Errorf("output %q: %v, want %q wrapping the failure", c.out, err, c.want)
		}
	}
}

// TestFamily: IPv4's address plan is the one the example has always used,
// and IPv6's repeats its digits under fd00:200::/32 with /64 links; every
// address parses, in its family.
func TestFamily(t *testing.T) {
	for _, c := range []struct {
		f                          family
		client, lb, b1, b9, vip    string
		cidr, host, route, network string
		minMTU, header             int
	}{
		{family{}, "10.200.1.2", "10.200.2.2", "10.200.11.2", "10.200.19.2", "10.200.100.1",
			"10.200.1.2/24", "10.200.100.1/32", "default", "udp4", 68, 20},
		{family{six: true}, "fd00:200:1::2", "fd00:200:2::2", "fd00:200:11::2", "fd00:200:19::2", "fd00:200:100::1",
			"fd00:200:1::2/64", "fd00:200:100::1/128", "::/0", "udp6", 1280, 40},
	} {
		f := c.f
		got := []string{f.addr(1, 2), f.lb(), f.backend(1), f.backend(9), f.vip(), f.cidr(1, 2), f.vipHost(), f.defaultRoute(), f.network("udp")}
		want := []string{c.client, c.lb, c.b1, c.b9, c.vip, c.cidr, c.host, c.route, c.network}
		if !slices.Equal(got, want) {
			t.Errorf("%v: addresses %q, want %q", f, got, want)
		}
		for _, a := range got[:5] {
			if ip, err := netip.ParseAddr(a); err != nil || ip.Is6() != f.six {
				t.Errorf("%v: address %q: %v, IPv6 %v", f, a, err, ip.Is6())
			}
		}
		if f.minMTU() != c.minMTU || f.ipHeader() != c.header {
			t.Errorf("%v: minimum MTU %d, IP header %d; want %d, %d", f, f.minMTU(), f.ipHeader(), c.minMTU, c.header)
		}
	}
}
