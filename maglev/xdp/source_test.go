//go:build linux

package xdp

import (
	"errors"
	"fmt"
	"net/netip"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
	"github.com/dataplane-go/dataplane/internal/pkt"
	"github.com/dataplane-go/dataplane/maglev"
)

// TestLB_NoSource: a VIP whose backends' family has no outer source in the
// Config is refused (ErrNoSource) by kernel loader and model alike, before
// SetConfig as after; SetConfig may not drop a source in use; an
// unspecified source is no source. If a zero source reaches the kernel's
// map anyway, it drops the packets and counts them instead of sending
// from 0.0.0.0.
func TestLB_NoSource(t *testing.T) {
	kerneltest.Require(t)
	opts := Options{Table: maglev.Params{Size: 251}}
	lb, err := Load(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer lb.Close()
	m, err := NewModel(opts)
	if err != nil {
		t.Fatal(err)
	}
	vip := VIP{netip.MustParseAddr("198.51.100.1"), 80, flow.ProtoTCP}
	both := func(step string, wantErr bool, do func(setConfig func(Config) error, setVIP func(VIP, []Backend) (*maglev.Table, error)) error) {
		t.Helper()
		kerr := do(lb.SetConfig, lb.SetVIP)
		merr := do(m.SetConfig, m.SetVIP)
		for who, err := range map[string]error{"kernel": kerr, "model": merr} {
			if wantErr && !errors.Is(err, ErrNoSource) {
				t.Fatalf("%s: %s: got %v, want an error wrapping ErrNoSource", step, who, err)
			}
			if !wantErr && err != nil {
				t.Fatalf("%s: %s: %v", step, who, err)
			}
		}
		if wantErr {
			t.Logf("%s: %v", step, kerr)
		}
	}
	setVIP := func(bs []Backend) func(func(Config) error, func(VIP, []Backend) (*maglev.Table, error)) error {
		return func(_ func(Config) error, set func(VIP, []Backend) (*maglev.Table, error)) error {
			_, err := set(vip, bs)
			return err
		}
	}
	setConfig := func(c Config) func(func(Config) error, func(VIP, []Backend) (*maglev.Table, error)) error {
		return func(set func(Config) error, _ func(VIP, []Backend) (*maglev.Table, error)) error { return set(c) }
	}
	only4, only6 := testConfig, testConfig
	only4.Src6 = netip.Addr{}
	only6.Src4 = netip.Addr{}

	both("IPv4 backend before SetConfig", true, setVIP(backends("10.1.0.1")))
	both("IPv6 backend before SetConfig", true, setVIP(backends("2001:db8:1::1")))
	both("SetConfig with Src4 only", false, setConfig(only4))
	both("IPv6 backend without Src6", true, setVIP(backends("10.1.0.1", "2001:db8:1::1")))
	both("IPv4 backend with Src4", false, setVIP(backends("10.1.0.1")))
	both("SetConfig dropping Src4 in use", true, setConfig(only6))
	both("SetConfig with both", false, setConfig(testConfig))
	both("both families", false, setVIP(backends("10.1.0.1", "2001:db8:1::1")))
	for _, c := range []Config{
		{SrcMAC: testConfig.SrcMAC, DstMAC: testConfig.DstMAC, Src4: netip.IPv4Unspecified()},
		{SrcMAC: testConfig.SrcMAC, DstMAC: testConfig.DstMAC, Src6: netip.IPv6Unspecified()},
	} {
		if err := lb.SetConfig(c); err == nil {
			t.Fatalf("SetConfig accepted the unspecified source in %+v", c)
		}
		if err := m.SetConfig(c); err == nil {
			t.Fatalf("model SetConfig accepted the unspecified source in %+v", c)
		}
	}

	// Behind the loader's back: a config without outer sources.
	if err := lb.objs.MaglevConfig.Put(lb.cfgCur, &maglevMaglevCfg{}); err != nil {
		t.Fatal(err)
	}
	m.cfg = Config{SrcMAC: testConfig.SrcMAC, DstMAC: testConfig.DstMAC}
	families := map[bool]bool{}
	const n = 16
	for i := 0; i < n; i++ {
		// 203.0.113.i:40000+i > 198.51.100.1:80 TCP SYN, to an IPv4 or IPv6 backend
		f := pkt.TCP4(fmt.Sprintf("203.0.113.%d:%d", i, 40000+i), "198.51.100.1:80", pkt.SYN, nil)
		v, _ := kerneltest.Run(t, lb.Program(), f)
		mv, _, mb := m.Process(f)
		if v != Drop || mv != Drop {
			t.Fatalf("zero outer source: kernel verdict %d, model %d, want drop", v, mv)
		}
		families[mb.Is4()] = true
	}
	if len(families) != 2 {
		t.Fatal("the frames went to backends of one family only: the test proves less than it says")
	}
	st, err := lb.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.DropNoSource != n || st.TX != 0 {
		t.Fatalf("counters %+v: want %d drops for no source, nothing sent", st.Counters, n)
	}
}

// TestKernel_SourceLeadingZeros: only an all-zero outer source counts as
// none. Sources whose leading bytes are zero (0.0.2.1, in 0.0.0.0/8, and
// ::2:1, whose first 96 bits are zero), which Config accepts as specified
// addresses, are sent from: kernel and model send every packet, from them,
// to backends of both families.
func TestKernel_SourceLeadingZeros(t *testing.T) {
	p := load(t, Options{Table: maglev.Params{Size: 251}})
	c := testConfig
	c.Src4, c.Src6 = netip.MustParseAddr("0.0.2.1"), netip.MustParseAddr("::2:1")
	for _, set := range []func(Config) error{p.lb.SetConfig, p.model.SetConfig} {
		if err := set(c); err != nil {
			t.Fatal(err)
		}
	}
	p.setVIP(t, VIP{netip.MustParseAddr("198.51.100.1"), 80, flow.ProtoTCP}, backends("10.1.0.1", "2001:db8:1::1"))
	families := map[bool]bool{}
	for i := 0; i < 16; i++ {
		// 203.0.113.i:40000+i > 198.51.100.1:80 TCP SYN
		f := pkt.TCP4(fmt.Sprintf("203.0.113.%d:%d", i, 40000+i), "198.51.100.1:80", pkt.SYN, nil)
		v, diff := p.sameOutcome(t, f)
		if diff != "" {
			t.Fatal(diff)
		}
		_, out := kerneltest.Run(t, p.lb.Program(), f)
		if v != TX || len(out) < 14+40 {
			t.Fatalf("frame %d: verdict %d, want TX", i, v)
		}
		src, want := netip.AddrFrom16([16]byte(out[14+8:])), c.Src6
		if out[12] == 0x08 {
			src, want = netip.AddrFrom4([4]byte(out[14+12:])), c.Src4
		}
		if src != want {
			t.Fatalf("frame %d: sent from %v, want %v", i, src, want)
		}
		families[want.Is4()] = true
	}
	if len(families) != 2 {
		t.Fatal("the frames went to backends of one family only: the test proves less than it says")
	}
	if st := kernelCounters(t, p.lb); st.TX != 32 || st.DropNoSource != 0 {
		t.Fatalf("counters %+v: want 32 sent (16 frames twice), none dropped for no source", st)
	}
}
