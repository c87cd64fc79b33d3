//go:build linux

package xdp

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
	"github.com/dataplane-go/dataplane/internal/pkt"
	"github.com/dataplane-go/dataplane/maglev"
)

// TestLB_PortNeedsTCPOrUDP: only TCP and UDP flow keys carry ports (every
// other protocol's are zero, flow/doc.go), so a VIP with a port and any
// other protocol can match no packet. SetVIP used to accept one silently:
// here an SCTP VIP on port 80, whose SCTP packets to port 80 all passed to
// the stack. The loader and the model must refuse it, saying what a port
// needs; port 0 (every packet of the protocol) stays accepted.
func TestLB_PortNeedsTCPOrUDP(t *testing.T) {
	p := load(t, Options{Seed: 7, Table: maglev.Params{Size: 251}})
	addr := netip.MustParseAddr("198.51.100.1")
	const sctp = 132
	for _, v := range []VIP{{addr, 80, sctp}, {addr, 80, flow.ProtoICMP}, {addr, 80, 0}} {
		_, kerr := p.lb.SetVIP(v, backends("10.1.0.1"))
		_, merr := p.model.SetVIP(v, backends("10.1.0.1"))
		for name, err := range map[string]error{"kernel": kerr, "model": merr} {
			if err == nil || !strings.Contains(err.Error(), "TCP") || !strings.Contains(err.Error(), "UDP") {
				f := pkt.Frame{IP4: &pkt.IPv4{Src: pkt.Addr("203.0.113.5"), Dst: addr, Protocol: sctp},
					Payload: []byte{0x9c, 0x40, 0, 80, 1, 2, 3, 4, 0, 0, 0, 0}}.Bytes() // SCTP 40000 > 80
				verdict, _ := kerneltest.Run(t, p.lb.Program(), f)
				t.Errorf("%s: SetVIP(%v): %v, want an error saying a port needs TCP or UDP (an SCTP packet to port 80: verdict %d)",
					name, v, err, verdict)
			}
		}
	}
	for _, v := range []VIP{{addr, 0, sctp}, {addr, 0, flow.ProtoICMP}, {addr, 80, flow.ProtoTCP}, {addr, 80, flow.ProtoUDP}} {
		p.setVIP(t, v, backends("10.1.0.1"))
	}
}

// TestLB_UnspecifiedBackend: 0.0.0.0 and :: are no destination (RFC 1122
// section 3.2.1.3, RFC 4291 section 2.5.2), as SetConfig already holds
// for the outer sources. SetVIP used to accept them as backends, and the
// kernel then sent the VIP's packets to 0.0.0.0 or ::, where no router
// forwards them. The loader and the model must refuse them.
func TestLB_UnspecifiedBackend(t *testing.T) {
	p := load(t, Options{Seed: 7, Table: maglev.Params{Size: 251}})
	v := VIP{netip.MustParseAddr("198.51.100.1"), 80, flow.ProtoTCP}
	for _, b := range []string{"0.0.0.0", "::"} {
		_, kerr := p.lb.SetVIP(v, backends("10.1.0.1", b))
		_, merr := p.model.SetVIP(v, backends("10.1.0.1", b))
		for name, err := range map[string]error{"kernel": kerr, "model": merr} {
			if err == nil || !strings.Contains(err.Error(), "unspecified") {
				t.Errorf("%s: SetVIP with backend %s: %v, want an error saying it is unspecified", name, b, err)
			}
		}
		if kerr != nil {
			continue
		}
		// What the kernel does with it: sends to the unspecified address.
		for sport := uint16(1); sport < 200; sport++ {
			f := pkt.Frame{IP4: &pkt.IPv4{Src: pkt.Addr("203.0.113.5"), Dst: v.Addr},
				TCP: &pkt.TCP{SrcPort: sport, DstPort: 80, Flags: pkt.SYN}}.Bytes()
			if verdict, out := kerneltest.Run(t, p.lb.Program(), f); verdict == TX && outerDst(out).IsUnspecified() {
				t.Errorf("kernel sent a packet to %v", outerDst(out))
				break
			}
		}
		if err := p.lb.DeleteVIP(v); err != nil {
			t.Fatal(err)
		}
	}
}
