package capture_test

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/dataplane-go/dataplane/capture"
	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/internal/pkt"
)

// FuzzReader feeds arbitrary bytes to the reader: it must never panic,
// never deliver a packet breaking the Packet invariants, end every input
// with io.EOF or an error of this package, and never allocate more than a
// bounded amount whatever lengths the input claims.
func FuzzReader(f *testing.F) {
	var le order = binary.LittleEndian
	var be order = binary.BigEndian
	pkts := testPackets(3, capture.LinkEthernet)
	var w bytes.Buffer
	capture.Write(&w, pkts)
	f.Add(w.Bytes())                                          // valid pcap, nanosecond
	f.Add(pcapBytes(be, false, 65535, capture.LinkRaw, pkts)) // big-endian, microsecond
	f.Add(w.Bytes()[:w.Len()-7])                              // cut inside the last record
	f.Add([]byte{})                                           // empty
	f.Add([]byte{0xd4, 0xc3, 0xb2})                           // one byte short of a magic number
	huge := bytes.Clone(w.Bytes())
	le.PutUint32(huge[24+8:], 0xffffffff) // absurd captured length
	f.Add(huge)
	ng := append(ngSHB(le), ngIDB(le, capture.LinkEthernet, 9, 0)...)
	ng = append(ng, ngEPB(le, 0, 12345, pkts[0], false)...)
	ng = append(ng, ngBlock(le, 3, []byte{8, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8})...)
	f.Add(ng) // pcapng with an enhanced and a simple packet block
	f.Add(append(ngSHB(be), ngIDB(be, capture.LinkRaw, 0x80|30, 5)...))
	fcsRecs, _ := fcsFrames(4)
	f.Add(pcapBytes(le, false, 65535, 1<<26|2<<28|capture.LinkEthernet, fcsRecs[:4])) // frames ending in an FCS
	ngFCS := append(ngSHB(le), ngIDBOpts(le, fcslen(le, 32))...)
	ngFCS = append(ngFCS, ngEPB(le, 0, 1, fcsRecs[1], false)...)
	f.Add(append(ngFCS, ngBlock(le, 3, []byte{6, 0, 0, 0, 1, 2, 3, 4, 5, 6, 0, 0})...))
	f.Add(append(append(ngSHB(be), ngIDBOpts(be, nil)...), ngEPBFlags(be, 0, fcsRecs[2], 1|4<<5)...)) // FCS length in epb_flags
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	zw.Write(w.Bytes())
	zw.Close()
	f.Add(zb.Bytes()) // gzip
	f.Fuzz(func(t *testing.T, b []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		r, err := capture.NewReader(bytes.NewReader(b))
		if err != nil {
			checkErr(t, err)
			return
		}
		buf := make([]byte, 0, 1<<10)
		var got []capture.Packet // the first packets, for the round trip
		for i := 0; ; i++ {
			p, err := r.NextInto(buf)
			if err != nil {
				if err != io.EOF {
					checkErr(t, err)
				}
				break
			}
			if len(p.Data) > capture.MaxRecordLen || p.WireLen < len(p.Data) {
				t.Fatalf("packet %d: %d bytes captured, %d on the wire", i+1, len(p.Data), p.WireLen)
			}
			if len(got) < 16 {
				q := p
				q.Data = bytes.Clone(p.Data)
				got = append(got, q)
			}
			buf = p.Data[:0]
		}
		runtime.ReadMemStats(&after)
		// Buffers (two of 64 KiB), gzip state, one record buffer of at most
		// MaxRecordLen, interface options: well under 2 MiB.
		if d := after.TotalAlloc - before.TotalAlloc; d > 2<<20+uint64(4*len(b)) {
			t.Fatalf("reading %d bytes allocated %d bytes", len(b), d)
		}
		// What was read, written as pcap, reads back the same (when pcap
		// can hold it: one link type, times from 1970 to 2106; and for
		// BSD loopback, records that start with a loopback header, as
		// Writer.WritePacket requires).
		for _, p := range got {
			if p.Link != got[0].Link || p.Time.Unix() < 0 || p.Time.Unix() > 0xffffffff {
				return
			}
		}
		var w bytes.Buffer
		if err := capture.Write(&w, got); err != nil {
			if got[0].Link == capture.LinkNull && strings.Contains(err.Error(), "does not start with a loopback header") {
				return
			}
			t.Fatalf("writing %d packets read: %v", len(got), err)
		}
		back, err := capture.NewReader(&w)
		if err != nil {
			t.Fatal(err)
		}
		for i, want := range got {
			p, err := back.Next()
			if err != nil || !p.Time.Equal(want.Time) || !bytes.Equal(p.Data, want.Data) || p.WireLen != want.WireLen || p.Link != want.Link {
				t.Fatalf("round trip of packet %d: %v %x %d %v (%v), want %v %x %d %v", i+1, p.Time, p.Data, p.WireLen, p.Link, err, want.Time, want.Data, want.WireLen, want.Link)
			}
		}
		if _, err := back.Next(); err != io.EOF {
			t.Fatalf("round trip: after %d packets, %v instead of io.EOF", len(got), err)
		}
	})
}

func checkErr(t *testing.T, err error) {
	t.Helper()
	var re *capture.RecordError
	if !errors.As(err, &re) {
		t.Fatalf("error %v (%T) is not a *capture.RecordError", err, err)
	}
	if err.Error() == "" {
		t.Fatal("empty error message")
	}
}

// FuzzAmplifier amplifies one arbitrary packet of any link type into four
// copies: no panic, the capture untouched, copy 0 equal to it, every copy
// as long as it, and when flow.Parse keys the packet (through
// Packet.Ethernet) every copy keyed, as Amplifier.Key says, and with a key
// of its own.
func FuzzAmplifier(f *testing.F) {
	add := func(link capture.LinkType, b []byte) { f.Add(uint32(link), b) }
	tcp := pkt.TCP4("10.0.0.1:1", "10.0.0.2:2", pkt.ACK, []byte("data"))
	add(capture.LinkEthernet, tcp)                                                                                                               // IPv4 TCP
	add(capture.LinkEthernet, pkt.UDP6("[2001:db8::1]:546", "[2001:db8::2]:547", []byte("x")))                                                   // IPv6 UDP
	add(capture.LinkEthernet, pkt.Frame{VLANs: []pkt.VLAN{{ID: 1}}, IP4: &pkt.IPv4{Src: pkt.Addr("1.2.3.4"), Dst: pkt.Addr("5.6.7.8")}}.Bytes()) // tagged
	add(capture.LinkRaw, tcp[14:])                                                                                                               // raw IP
	add(capture.LinkLinuxSLL, append(append(make([]byte, 14), 0x08, 0x00), tcp[14:]...))                                                         // cooked
	add(capture.LinkLinuxSLL, append(append(make([]byte, 14), 0x81, 0x00, 0, 1, 0x08, 0x00), tcp[14:]...))                                       // cooked, tagged
	add(capture.LinkLinuxSLL2, append(append([]byte{0x81, 0x00}, make([]byte, 18)...), 0, 1, 0x08, 0x00))                                        // cooked, tag cut
	add(capture.LinkNull, append([]byte{2, 0, 0, 0}, tcp[14:]...))                                                                               // loopback
	add(capture.LinkIPv6, tcp[14:])                                                                                                              // IPv4 bytes declared IPv6
	add(capture.LinkEthernet, tcp[:30])                                                                                                          // cut in the IP header
	f.Fuzz(func(t *testing.T, link uint32, data []byte) {
		p := capture.Packet{Time: time.Unix(1, 0), Data: data, WireLen: len(data), Link: capture.LinkType(link % 300)}
		orig := bytes.Clone(data)
		const n = 4
		a, err := capture.NewAmplifier([]capture.Packet{p}, n)
		if err != nil {
			t.Fatal(err)
		}
		key := func(q capture.Packet) flow.Key {
			fr, ok := q.Ethernet(nil)
			if !ok {
				return flow.Key{}
			}
			info, _ := flow.Parse(fr)
			return info.Key
		}
		k0 := key(p)
		seen := map[flow.Key]int{}
		for c := range n {
			q := a.Copy(c, 0, nil)
			if !bytes.Equal(data, orig) {
				t.Fatalf("copy %d changed the capture", c)
			}
			if len(q.Data) != len(data) || (c == 0 && !bytes.Equal(q.Data, data)) {
				t.Fatalf("copy %d: %x, capture %x", c, q.Data, data)
			}
			k := key(q)
			if k.IsValid() != k0.IsValid() || k != a.Key(c, k0) {
				t.Fatalf("copy %d: key %v, Amplifier.Key gives %v (capture's key %v)", c, k, a.Key(c, k0), k0)
			}
			if k.IsValid() {
				if d, dup := seen[k]; dup {
					t.Fatalf("copies %d and %d have the same key %v", d, c, k)
				}
				seen[k] = c
			}
		}
	})
}

// FuzzEthernet converts arbitrary bytes of any link type: no panic, the
// packet untouched, an Ethernet packet returned as is, and any other
// frame a 14-byte header of zero MACs and an IP EtherType (or the cooked
// protocol) followed by the packet's bytes after its link-layer header.
func FuzzEthernet(f *testing.F) {
	for _, c := range []struct {
		link capture.LinkType
		b    []byte
	}{
		{capture.LinkRaw, []byte{0x45, 0, 0, 20}},                          // IPv4
		{capture.LinkDLTRaw, []byte{0x60, 0, 0, 0}},                        // IPv6
		{capture.LinkRaw, []byte{0x15}},                                    // version 1
		{capture.LinkNull, []byte{2, 0, 0, 0, 0x45}},                       // loopback
		{capture.LinkNull, []byte{2, 0, 0}},                                // loopback, cut
		{capture.LinkLinuxSLL, append(make([]byte, 14), 0x86, 0xdd, 0x60)}, // cooked
		{capture.LinkLinuxSLL2, make([]byte, 19)},                          // cooked v2, one byte short
		{capture.LinkIPv4, nil},                                            // empty
		{capture.LinkEthernet, make([]byte, 14)},
	} {
		f.Add(uint32(c.link), c.b)
	}
	f.Fuzz(func(t *testing.T, link uint32, data []byte) {
		p := capture.Packet{Data: data, Link: capture.LinkType(link % 300)}
		orig := bytes.Clone(data)
		buf := make([]byte, 0, 64)
		fr, ok := p.Ethernet(buf)
		if !bytes.Equal(data, orig) {
			t.Fatal("Ethernet changed the packet")
		}
		if !ok {
			return
		}
		if p.Link == capture.LinkEthernet {
			if len(fr) != len(data) || (len(data) > 0 && &fr[0] != &data[0]) {
				t.Fatal("an Ethernet packet was not returned as is")
			}
			return
		}
		hdr := map[capture.LinkType]int{capture.LinkNull: 4, capture.LinkLinuxSLL: 16, capture.LinkLinuxSLL2: 20}[p.Link]
		et := binary.BigEndian.Uint16(fr[12:14])
		if len(fr) != 14+len(data)-hdr || !bytes.Equal(fr[:12], make([]byte, 12)) || et == 0 || !bytes.Equal(fr[14:], data[hdr:]) {
			t.Fatalf("link %v: %x became %x", p.Link, data, fr)
		}
		if hdr != 16 && hdr != 20 && et != 0x0800 && et != 0x86dd {
			t.Fatalf("link %v: EtherType %#04x", p.Link, et)
		}
	})
}
