package capture

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"net/netip"
	"slices"
	"strconv"
	"time"
	"unsafe"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/internal/pkt"
)

// FrameSize is one frame length of a mix and its relative weight.
type FrameSize struct {
	Len    int     // Ethernet frame length without FCS, 60 to 65,549 (an IPv4 total length of 65,535)
	Weight float64 // relative; positive, and the weights of a mix sum to a finite number
}

// maxGenFrame is the longest frame the generator makes: the IP length
// fields are 16 bits, and an IPv4 packet holds at most 65,535 bytes.
const maxGenFrame = 65535 + 14

// IMIX is the "simple IMIX" packet-size mix used in router benchmarking:
// 7 parts of 64 bytes, 4 of 594 and 1 of 1518 (Ethernet frames with FCS;
// 60, 590 and 1514 bytes here, where frames are stored without it).
var IMIX = []FrameSize{{60, 7}, {590, 4}, {1514, 1}}

// Limits of [GenConfig]. On a 32-bit platform the trace's []Packet must
// also fit in an int, which allows at most 53,687,091 packets there.
const (
	MaxGenFlows   = 1 << 24
	MaxGenPackets = 1 << 28
)

// maxGenPacketsInt is the most packets a trace can have on this platform:
// MaxGenPackets, or fewer where their []Packet would take more bytes than
// an int holds (on a 32-bit platform, where make would panic for it).
const maxGenPacketsInt = min(MaxGenPackets, math.MaxInt/int(unsafe.Sizeof(Packet{})))

// GenConfig describes a synthetic trace for [Generate]. Zero fields take
// the documented defaults.
type GenConfig struct {
	Flows       int         // distinct flows (5-tuples), 1 to MaxGenFlows
	Packets     int         // total packets, Flows to MaxGenPackets (see the limits); 0: the sum of the sampled flow sizes
	FlowSizes   FlowSizes   // flow-size distribution; zero: WebSearch
	IPv6Share   float64     // fraction of flows over IPv6, in [0, 1]
	UDPShare    float64     // fraction of flows over UDP (the others TCP), in [0, 1]
	FrameSizes  []FrameSize // frame-length mix of data packets; nil: IMIX
	Concurrency int         // mean number of flows active at once; 0: 64
	Start       time.Time   // time of the trace's start; zero: 2024-01-01T00:00:00Z
	Rate        float64     // mean packets per second; 0: one million
	Seed        uint64      // the same config and seed give the same bytes
}

// Validate returns an error naming the first field outside its range.
func (c *GenConfig) Validate() error {
	switch {
	case c.Flows < 1 || c.Flows > MaxGenFlows:
		return fmt.Errorf("capture: generator flows must be in [1, %d], got %d", MaxGenFlows, c.Flows)
	case c.Packets != 0 && (c.Packets < c.Flows || c.Packets > MaxGenPackets):
		return fmt.Errorf("capture: generator packets must be 0 or in [flows, %d] (every flow has a packet), got %d with %d flows", MaxGenPackets, c.Packets, c.Flows)
	case c.Packets > maxGenPacketsInt:
		return fmt.Errorf("capture: generator packets must be at most %d on a %d-bit platform (the trace's []Packet, %d bytes a packet, must fit in an int), got %d",
			maxGenPacketsInt, strconv.IntSize, unsafe.Sizeof(Packet{}), c.Packets)
	case !(c.IPv6Share >= 0 && c.IPv6Share <= 1):
		return fmt.Errorf("capture: generator IPv6 share must be in [0, 1], got %v", c.IPv6Share)
	case !(c.UDPShare >= 0 && c.UDPShare <= 1):
		return fmt.Errorf("capture: generator UDP share must be in [0, 1], got %v", c.UDPShare)
	case c.Concurrency < 0:
		return fmt.Errorf("capture: generator concurrency must be at least 0, got %d", c.Concurrency)
	case !(c.Rate >= 0) || math.IsInf(c.Rate, 0):
		return fmt.Errorf("capture: generator rate must be a finite number of packets per second, at least 0, got %v", c.Rate)
	}
	var weights float64
	for i, s := range c.FrameSizes {
		if s.Len < 60 || s.Len > maxGenFrame {
			return fmt.Errorf("capture: generator frame size %d must be in [60, %d] bytes, got %d", i, maxGenFrame, s.Len)
		}
		if !(s.Weight > 0) || math.IsInf(s.Weight, 0) {
			return fmt.Errorf("capture: generator frame size %d weight must be positive and finite, got %v", i, s.Weight)
		}
		weights += s.Weight
	}
	if math.IsInf(weights, 0) {
		// The generator draws from the sum: an infinite one would give
		// every packet the last size.
		return fmt.Errorf("capture: generator frame size weights must sum to a finite number, got +Inf: they are relative, so scale them down")
	}
	if c.FrameSizes != nil && len(c.FrameSizes) == 0 {
		return fmt.Errorf("capture: generator frame sizes must be nil (IMIX) or hold at least one size")
	}
	return nil
}

// genFlow is the state of one generated flow.
type genFlow struct {
	src, dst   netip.Addr
	sport      uint16
	dport      uint16
	udp        bool
	size       int
	seq, ack   uint32
	id         uint16
	label      uint32
	start, dur float64
}

// Generate returns a synthetic trace: Ethernet frames of IPv4 or IPv6 and
// TCP or UDP flows, with correct lengths and checksums, in time order.
//
// Flow sizes are drawn from the distribution; when Packets is set they are
// scaled by Packets over their sum (each flow keeping at least one packet,
// rounding by largest remainder) so that the trace has exactly Packets
// packets and the distribution's shape: mice stay mice, elephants carry
// most packets. Hosts are drawn from a pool (10.0.0.0/8 and fd00:dc::/32
// addresses), source ports are ephemeral, destination ports those of common
// datacenter services. Each flow is active for a span proportional to its
// size (so that Concurrency flows are active at once on average) placed
// uniformly in the trace, its packets spread evenly over that span with
// jitter; timestamps run from Start at Rate packets per second on average.
// A TCP flow opens with a SYN and a flow of several packets ends with a
// FIN; data packets draw their frame length from FrameSizes and carry zero
// bytes as payload, but for a 4-byte packet number at its end. A drawn
// length shorter than the packet's headers plus those 4 bytes is raised to
// that: over IPv6 the 60-byte IMIX frames come out at 66 bytes (UDP) or 78
// (TCP); over IPv4 they keep 60. A trace lasting longer than a
// time.Duration holds (about 292 years: Packets over Rate) is an error.
//
// The same config gives the same bytes, on every platform.
func Generate(cfg GenConfig) ([]Packet, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	dist := cfg.FlowSizes
	if !dist.IsValid() {
		dist = WebSearch
	}
	mix := cfg.FrameSizes
	if mix == nil {
		mix = IMIX
	}
	conc := cfg.Concurrency
	if conc == 0 {
		conc = 64
	}
	rate := cfg.Rate
	if rate == 0 {
		rate = 1e6
	}
	start := cfg.Start
	if start.IsZero() {
		start = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	r := &rng{s: cfg.Seed}

	flows := make([]genFlow, cfg.Flows)
	// The sizes are summed in 128 bits (hi, sum): a Pareto distribution
	// draws sizes up to math.MaxInt, and an int sum wrapped (then passed
	// the check below, or scaled the sizes by a negative total).
	var sum, hi uint64
	for i := range flows {
		size := dist.Sample(r.float())
		flows[i].size = size
		var carry uint64
		sum, carry = bits.Add64(sum, uint64(size), 0)
		hi += carry
		if cfg.Packets == 0 && (hi != 0 || sum > MaxGenPackets) {
			return nil, fmt.Errorf("capture: generator: %d flows of %v sizes exceed %d packets; set Packets to scale them", cfg.Flows, dist, MaxGenPackets)
		}
	}
	total := cfg.Packets
	if total != 0 {
		scaleSizes(flows, float64(hi)*0x1p64+float64(sum), total)
	} else if total = int(sum); total > maxGenPacketsInt {
		return nil, fmt.Errorf("capture: generator: %d flows of %v sizes sum to %d packets, more than the %d a %d-bit platform holds (the trace's []Packet must fit in an int); set Packets to scale them",
			cfg.Flows, dist, total, maxGenPacketsInt, strconv.IntSize)
	}
	span := float64(float64(total) / rate * 1e9) // trace duration in ns
	if span >= 0x1p63 {
		// A packet's offset from Start is a time.Duration; converting a
		// float past int64's range wrapped the times back centuries.
		return nil, fmt.Errorf("capture: generator: %d packets at rate %v per second last %.4g s, longer than a time.Duration holds (about 292 years); raise the rate", total, rate, float64(total)/rate)
	}
	assignEndpoints(flows, cfg, r)

	// Place every packet on a virtual time line [0, 1).
	type slot struct {
		vt   float64
		flow int32
		j    int32
	}
	slots := make([]slot, 0, total)
	for i := range flows {
		f := &flows[i]
		f.dur = min(1, float64(float64(f.size)*float64(conc))/float64(total))
		f.start = float64(r.float() * (1 - f.dur))
		for j := range f.size {
			vt := f.start + float64(f.dur*(float64(j)+r.float()))/float64(f.size)
			slots = append(slots, slot{vt, int32(i), int32(j)})
		}
	}
	slices.SortFunc(slots, func(a, b slot) int {
		if c := cmp.Compare(a.vt, b.vt); c != 0 {
			return c
		}
		if c := cmp.Compare(a.flow, b.flow); c != 0 {
			return c
		}
		return cmp.Compare(a.j, b.j)
	})

	var weights float64
	for _, s := range mix {
		weights += s.Weight
	}
	body := make([]byte, maxGenFrame) // zeros but for the counter being written
	pkts := make([]Packet, len(slots))
	var arena []byte
	for n, s := range slots {
		f := &flows[s.flow]
		j := int(s.j)
		frame := pkt.Frame{}
		hdr := 14
		if f.src.Is4() {
			frame.IP4 = &pkt.IPv4{Src: f.src, Dst: f.dst, ID: f.id, Flags: pkt.DF}
			hdr += 20
		} else {
			frame.IP6 = &pkt.IPv6{Src: f.src, Dst: f.dst, FlowLabel: f.label}
			hdr += 40
		}
		f.id++
		size := frameSize(mix, weights, r.float())
		syn := !f.udp && j == 0
		if f.udp {
			hdr += 8
		} else {
			hdr += 20
		}
		// Every packet but a SYN carries at least 4 bytes of payload ending
		// in its number within the flow, so no two packets of a flow are
		// identical: TCP sequence numbers advance, and UDP datagrams differ
		// in content and checksum (packet digests such as iblt/xdp tell
		// packets apart by these fields).
		payload := max(4, size-hdr)
		if syn {
			payload = 0
		}
		if f.udp {
			frame.UDP = &pkt.UDP{SrcPort: f.sport, DstPort: f.dport}
		} else {
			t := &pkt.TCP{SrcPort: f.sport, DstPort: f.dport, Seq: f.seq, Ack: f.ack, Flags: pkt.ACK}
			switch {
			case syn:
				t.Flags, t.Ack = pkt.SYN, 0
				f.seq++
			case j == f.size-1:
				t.Flags |= pkt.FIN
			case payload > 0:
				t.Flags |= pkt.PSH
			}
			f.seq += uint32(payload)
			frame.TCP = t
		}
		frame.Payload = body[:payload]
		if payload > 0 {
			binary.BigEndian.PutUint32(body[payload-4:], uint32(j+1))
		}
		if cap(arena)-len(arena) < hdr+payload {
			arena = make([]byte, 0, max(1<<20, hdr+payload))
		}
		b := frame.AppendTo(arena[len(arena):])
		arena = arena[:len(arena)+len(b)]
		if payload > 0 {
			clear(body[payload-4 : payload])
		}
		ns := int64(float64(s.vt * span))
		pkts[n] = Packet{Time: start.Add(time.Duration(ns)), Data: b[:len(b):len(b)], WireLen: len(b), Link: LinkEthernet}
	}
	return pkts, nil
}

// scaleSizes scales the flow sizes (summing to total, which can exceed
// an int) to sum to want, each at least 1, by largest remainder.
func scaleSizes(flows []genFlow, total float64, want int) {
	type rem struct {
		frac float64
		i    int
	}
	rems := make([]rem, len(flows))
	sum := 0
	for i := range flows {
		t := float64(float64(flows[i].size) * float64(want) / total)
		b := max(1, int(t))
		rems[i] = rem{t - math.Floor(t), i}
		flows[i].size = b
		sum += b
	}
	if sum < want {
		slices.SortStableFunc(rems, func(a, b rem) int { return cmp.Compare(b.frac, a.frac) })
		for k := 0; sum < want; k = (k + 1) % len(rems) {
			flows[rems[k].i].size++
			sum++
		}
		return
	}
	// Too many (flows raised to one packet): take from the largest flows.
	order := make([]int, len(flows))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(flows[b].size, flows[a].size) })
	// Passes over the flows, largest first, each taking one packet from
	// every flow above one. Sizes never increase along order from the
	// current position (a pass keeps them sorted), so the first flow at
	// one ends a pass: the flows after it are at one too. Visiting them
	// made scaling quadratic (10^5 passes of 10^5 flows of one packet
	// when an elephant had to give back 10^5 packets). Since want is at
	// least the number of flows, order[0] is above one while sum > want.
	for k := 0; sum > want; {
		f := &flows[order[k]]
		if f.size == 1 {
			k = 0
			continue
		}
		f.size--
		sum--
		if k++; k == len(order) {
			k = 0
		}
	}
}

// Services whose ports the generated flows go to.
var (
	tcpPorts = []uint16{80, 443, 443, 443, 8080, 9000, 3306, 6379, 11211, 5001}
	udpPorts = []uint16{53, 53, 123, 4789, 5353, 8125, 161, 514, 443}
)

// assignEndpoints draws the hosts, ports and per-flow state, every flow a
// distinct 5-tuple.
func assignEndpoints(flows []genFlow, cfg GenConfig, r *rng) {
	hosts := max(256, len(flows)/2) // a pool of hosts: flows share them
	seen := make(map[flow.Key]struct{}, len(flows))
	for i := range flows {
		f := &flows[i]
		v6 := r.float() < cfg.IPv6Share
		f.udp = r.float() < cfg.UDPShare
		for {
			s, d := r.intn(hosts), r.intn(hosts-1)
			if d >= s {
				d++ // two distinct hosts
			}
			f.src, f.dst = hostAddr(s, v6), hostAddr(d, v6)
			f.sport = uint16(32768 + r.intn(28232)) // Linux ephemeral range 32768-60999
			if f.udp {
				f.dport = udpPorts[r.intn(len(udpPorts))]
			} else {
				f.dport = tcpPorts[r.intn(len(tcpPorts))]
			}
			proto := uint8(flow.ProtoTCP)
			if f.udp {
				proto = flow.ProtoUDP
			}
			k, _ := flow.KeyFrom(f.src, f.dst, f.sport, f.dport, proto)
			if _, dup := seen[k]; !dup {
				seen[k] = struct{}{}
				break
			}
		}
		f.seq, f.ack = uint32(r.next()), uint32(r.next())
		f.id, f.label = uint16(r.next()), uint32(r.next())&0xfffff
	}
}

// hostAddr returns host h of the pool: 10.0.0.0/8 (h+1 avoids the network
// address) or fd00:dc::/32 with the host number in the last 32 bits.
func hostAddr(h int, v6 bool) netip.Addr {
	h++
	if !v6 {
		return netip.AddrFrom4([4]byte{10, byte(h >> 16), byte(h >> 8), byte(h)})
	}
	return netip.AddrFrom16([16]byte{0xfd, 0, 0, 0xdc, 12: byte(h >> 24), 13: byte(h >> 16), 14: byte(h >> 8), 15: byte(h)})
}

// frameSize draws a frame length from the mix.
func frameSize(mix []FrameSize, total, u float64) int {
	x := float64(u * total)
	for _, s := range mix {
		if x < s.Weight {
			return s.Len
		}
		x -= s.Weight
	}
	return mix[len(mix)-1].Len
}
