//go:build linux

package xdp

import (
	"bytes"
	"net"
	"net/netip"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
	"github.com/dataplane-go/dataplane/internal/pkt"
)

// TestSetConfig_Switches: SetConfig never rewrites the Config entry the
// kernel reads. It writes the other of maglev_config's two entries and
// then switches maglev_config_cur to it, so a packet in flight reads one
// whole Config, never part of two (a map update is a plain copy: a next
// hop's new MAC could otherwise go out beside the old one's first bytes).
// Before it writes an entry that was in use, it waits for program runs
// that may still read it (one wait per SetConfig, none when another wait
// came since), and frames sent after each SetConfig carry its MACs.
func TestSetConfig_Switches(t *testing.T) {
	p := load(t, Options{}) // SetConfig(testConfig) done: entry 1 in use
	lb := p.lb
	p.setVIP(t, VIP{netip.MustParseAddr("198.51.100.1"), 80, flow.ProtoTCP}, backends("10.1.0.1"))
	// 203.0.113.5:40000 > 198.51.100.1:80 TCP SYN
	frame := pkt.TCP4("203.0.113.5:40000", "198.51.100.1:80", pkt.SYN, nil)

	entry := func(i uint32) maglevMaglevCfg {
		t.Helper()
		var v maglevMaglevCfg
		if err := lb.objs.MaglevConfig.Lookup(i, &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	cur := func() uint32 {
		t.Helper()
		var c uint32
		if err := lb.objs.MaglevConfigCur.Lookup(uint32(0), &c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	if cur() != 1 || entry(0) != (maglevMaglevCfg{}) {
		t.Fatalf("after the first SetConfig: entry %d in use, entry 0 %+v; want entry 1 in use and entry 0 untouched", cur(), entry(0))
	}
	prev := entry(1)
	for i := range 4 {
		c := testConfig
		c.DstMAC = net.HardwareAddr{0x02, 0, 0, 0, 0xa0, byte(i)}
		waits := lb.wait.Waits()
		was := cur()
		if err := lb.SetConfig(c); err != nil {
			t.Fatal(err)
		}
		if got := lb.wait.Waits() - waits; got != 1 {
			t.Errorf("SetConfig %d: %d waits, want 1 before rewriting the entry last in use", i, got)
		}
		now := cur()
		if now == was {
			t.Fatalf("SetConfig %d: entry %d still in use: rewritten in place", i, now)
		}
		if e := entry(now); !bytes.Equal(e.DstMac[:], c.DstMAC) {
			t.Fatalf("SetConfig %d: entry in use holds DstMAC %x, want %x", i, e.DstMac, c.DstMAC)
		}
		if entry(was) != prev {
			t.Fatalf("SetConfig %d: the entry that was in use changed", i)
		}
		prev = entry(now)
		v, out := kerneltest.Run(t, lb.Program(), frame)
		if v != TX || !bytes.Equal(out[:6], c.DstMAC) || !bytes.Equal(out[6:12], c.SrcMAC) {
			t.Fatalf("SetConfig %d: verdict %d, MACs %x, want TX to %x from %x", i, v, out[:12], c.DstMAC, c.SrcMAC)
		}
	}
	// A wait for another reason (here one of Wait's own) since the last
	// switch makes the next SetConfig's unneeded.
	if err := lb.wait.Wait(); err != nil {
		t.Fatal(err)
	}
	waits := lb.wait.Waits()
	if err := lb.SetConfig(testConfig); err != nil {
		t.Fatal(err)
	}
	if got := lb.wait.Waits() - waits; got != 0 {
		t.Errorf("SetConfig after a wait: %d more waits, want 0", got)
	}
}
