package capture_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dataplane-go/dataplane/capture"
	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/internal/pkt"
)

func TestFlowSizes_MeanMatchesPublished(t *testing.T) {
	// The means the pFabric/PIAS scripts use for these tables:
	// 1138 * 1460 bytes (web search) and 5117 * 1460 bytes (data mining).
	for _, tc := range []struct {
		d    capture.FlowSizes
		mean float64
	}{{capture.WebSearch, 1138}, {capture.DataMining, 5117}} {
		if m := tc.d.Mean(); math.Abs(m-tc.mean)/tc.mean > 0.005 {
			t.Errorf("%v: mean %.1f packets, published %.0f", tc.d, m, tc.mean)
		}
	}
}

// TestFlowSizes_SampleMean draws a million sizes: their mean must be
// within 5 standard errors (from the distribution's own standard
// deviation) of the distribution's mean, plus 0.5 for rounding to whole
// packets.
func TestFlowSizes_SampleMean(t *testing.T) {
	par, err := capture.Pareto(1.2, 1, 10000)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []capture.FlowSizes{capture.WebSearch, capture.DataMining, par} {
		r := rand.New(rand.NewPCG(1, 2))
		const n = 1_000_000
		var s float64
		for range n {
			x := d.Sample(r.Float64())
			if x < 1 {
				t.Fatalf("%v: size %d", d, x)
			}
			s += float64(x)
		}
		mean := s / n
		tol := 5*d.StdDev()/math.Sqrt(n) + 0.5
		if math.Abs(mean-d.Mean()) > tol {
			t.Errorf("%v: sample mean %.2f, distribution mean %.2f, tolerance %.2f", d, mean, d.Mean(), tol)
		}
	}
	// Quantiles of the tables: the sizes at the published probabilities.
	for _, tc := range []struct {
		d    capture.FlowSizes
		u    float64
		size int
	}{
		{capture.WebSearch, 0.1, 6}, {capture.WebSearch, 0.53, 53}, {capture.WebSearch, 0.9, 3333}, {capture.WebSearch, 0.985, 13334},
		{capture.DataMining, 0.4, 1}, {capture.DataMining, 0.8, 7}, {capture.DataMining, 0.99, 66667},
	} {
		if got := tc.d.Sample(tc.u); got != tc.size {
			t.Errorf("%v at %v: %d packets, want %d", tc.d, tc.u, got, tc.size)
		}
	}
}

// TestPareto_SmallAlpha checks a shape close to 0, where the bounded
// Pareto distribution on [L, H] tends to the log-uniform one: median
// sqrt(L*H), mean (H-L)/ln(H/L). Computed as 1 - (L/H)^alpha, the
// normalisation rounds to 0 from alpha of about 1e-17 on, which made the
// mean infinite and every sample L.
func TestPareto_SmallAlpha(t *testing.T) {
	const lo, hi = 1, 1_000_000
	logMean := (hi - lo) / math.Log(hi/lo)
	for _, alpha := range []float64{1e-9, 1e-17, 1e-30, 1e-300} {
		d, err := capture.Pareto(alpha, lo, hi)
		if err != nil {
			t.Fatal(err)
		}
		if m := d.Mean(); math.Abs(m-logMean)/logMean > 1e-6 {
			t.Errorf("alpha %g: mean %v, want about %v", alpha, m, logMean)
		}
		if s := d.StdDev(); !(s > 0) || math.IsInf(s, 0) {
			t.Errorf("alpha %g: standard deviation %v", alpha, s)
		}
		if got := d.Sample(0.5); got != 1000 {
			t.Errorf("alpha %g: median %d, want 1000", alpha, got)
		}
		if got := d.Sample(0.25); got != 32 { // 10^1.5 = 31.6
			t.Errorf("alpha %g: first quartile %d, want 32", alpha, got)
		}
	}
}

// TestFlowSizes_SampleOutsideUnit checks that a variate outside [0, 1)
// is clamped: below 0 or NaN gives the smallest size, 1 or more the
// largest.
func TestFlowSizes_SampleOutsideUnit(t *testing.T) {
	par, err := capture.Pareto(1.1, 3, 500)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		d        capture.FlowSizes
		min, max int
	}{{capture.WebSearch, 6, 20000}, {capture.DataMining, 1, 666667}, {par, 3, 500}} {
		for _, u := range []float64{-0.5, math.Inf(-1), math.NaN(), 0} {
			if got := tc.d.Sample(u); got != tc.min {
				t.Errorf("%v: Sample(%v) = %d, want %d", tc.d, u, got, tc.min)
			}
		}
		for _, u := range []float64{1, 1.5, math.Inf(1)} {
			if got := tc.d.Sample(u); got != tc.max {
				t.Errorf("%v: Sample(%v) = %d, want %d", tc.d, u, got, tc.max)
			}
		}
	}
}

// TestPareto_SampleWide: where (min/max)^alpha is below an ulp of 1, the
// mass 1 - (min/max)^alpha rounds to 1 and Sample(1)'s inverse CDF to
// +Inf. Its conversion to an int, undefined in Go (math.MinInt on amd64),
// then made the largest size the smallest, 1; now it is max, and at max
// = math.MaxInt (2^63 as a float64, past an int) math.MaxInt.
func TestPareto_SampleWide(t *testing.T) {
	for _, c := range []struct {
		alpha float64
		max   int
	}{{1.1, math.MaxInt}, {2, math.MaxInt/2 + 1}, {1, math.MaxInt/8 + 1}, {1.2, 1000000}} {
		d, err := capture.Pareto(c.alpha, 1, c.max)
		if err != nil {
			t.Fatal(err)
		}
		if got := d.Sample(1); got != c.max {
			t.Errorf("%v: Sample(1) = %d, want the largest size, %d", d, got, c.max)
		}
		if got := d.Sample(math.Nextafter(1, 0)); got < 1 || got > c.max {
			t.Errorf("%v: Sample(1-2^-53) = %d, want a size in [1, %d]", d, got, c.max)
		}
	}
}

func TestPareto_Errors(t *testing.T) {
	for _, tc := range []struct {
		alpha    float64
		min, max int
		msg      string
	}{
		{0, 1, 10, "alpha must be positive and finite, got 0"},
		{math.NaN(), 1, 10, "alpha must be positive and finite, got NaN"},
		{math.Inf(1), 1, 10, "alpha must be positive and finite, got +Inf"},
		{1.1, 0, 10, "got min 0, max 10"},
		{1.1, 5, 5, "got min 5, max 5"},
	} {
		if _, err := capture.Pareto(tc.alpha, tc.min, tc.max); err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("Pareto(%v, %d, %d): %v, want %q", tc.alpha, tc.min, tc.max, err, tc.msg)
		}
	}
}

func genBytes(t *testing.T, cfg capture.GenConfig) ([]capture.Packet, []byte) {
	t.Helper()
	pkts, err := capture.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := capture.Write(&b, pkts); err != nil {
		t.Fatal(err)
	}
	return pkts, b.Bytes()
}

func TestGenerate_Deterministic(t *testing.T) {
	cfg := capture.GenConfig{Flows: 500, Packets: 3000, IPv6Share: 0.3, UDPShare: 0.2, Seed: 7}
	_, a := genBytes(t, cfg)
	_, b := genBytes(t, cfg)
	if !bytes.Equal(a, b) {
		t.Fatal("the same config generated different bytes")
	}
	cfg.Seed = 8
	if _, c := genBytes(t, cfg); bytes.Equal(a, c) {
		t.Fatal("another seed generated the same bytes")
	}
}

func TestGenerate_Trace(t *testing.T) {
	const flows, packets = 4000, 30000
	cfg := capture.GenConfig{Flows: flows, Packets: packets, IPv6Share: 0.2, UDPShare: 0.15, Seed: 1, Rate: 1e5}
	pkts, _ := genBytes(t, cfg)
	if len(pkts) != packets {
		t.Fatalf("%d packets, want %d", len(pkts), packets)
	}
	size := map[flow.Key]int{}
	var v6, udp int
	for i, p := range pkts {
		info, err := flow.Parse(p.Data)
		if err != nil {
			t.Fatalf("packet %d does not parse: %v", i+1, err)
		}
		ipOK, l4OK, checked := checksums(p.Data)
		if !checked || !ipOK || !l4OK {
			t.Fatalf("packet %d: checksums checked %v, IP %v, upper layer %v", i+1, checked, ipOK, l4OK)
		}
		if i > 0 && p.Time.Before(pkts[i-1].Time) {
			t.Fatalf("packet %d goes back in time", i+1)
		}
		if size[info.Key] == 0 {
			if info.Key.Is6() {
				v6++
			}
			if info.Key.Proto() == flow.ProtoUDP {
				udp++
			}
		}
		size[info.Key]++
	}
	if len(size) != flows {
		t.Fatalf("%d distinct flows, want %d", len(size), flows)
	}
	// Shares within 5 binomial standard deviations.
	for _, s := range []struct {
		name string
		n    int
		p    float64
	}{{"IPv6", v6, 0.2}, {"UDP", udp, 0.15}} {
		sd := math.Sqrt(flows * s.p * (1 - s.p))
		if math.Abs(float64(s.n)-flows*s.p) > 5*sd {
			t.Errorf("%s flows: %d of %d, want about %.0f", s.name, s.n, flows, flows*s.p)
		}
	}
	// Heavy tail: in the web-search table the largest 10% of flows carry
	// 66% of the packets; the one-packet floor of scaling moves at most
	// flows/packets (13%) of the packets to the small flows.
	sizes := make([]int, 0, len(size))
	for _, n := range size {
		sizes = append(sizes, n)
	}
	slices.Sort(sizes)
	top := 0
	for _, n := range sizes[len(sizes)*9/10:] {
		top += n
	}
	if share := float64(top) / packets; share < 0.66-float64(flows)/packets {
		t.Errorf("the largest 10%% of flows carry %.2f of the packets, want at least %.2f", share, 0.66-float64(flows)/packets)
	}
	// Mean rate: packets / duration within 5%.
	d := pkts[len(pkts)-1].Time.Sub(pkts[0].Time).Seconds()
	if rate := packets / d; math.Abs(rate-1e5)/1e5 > 0.05 {
		t.Errorf("mean rate %.0f packets/s, want 100000", rate)
	}
}

// TestGenerate_UnscaledSizes: without Packets, flow sizes are the sampled
// sizes, whose mean must match the distribution's within 5 standard
// errors.
func TestGenerate_UnscaledSizes(t *testing.T) {
	d, _ := capture.Pareto(1.5, 1, 200)
	const flows = 5000
	pkts, err := capture.Generate(capture.GenConfig{Flows: flows, FlowSizes: d, FrameSizes: []capture.FrameSize{{60, 1}}, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	mean := float64(len(pkts)) / flows
	if tol := 5*d.StdDev()/math.Sqrt(flows) + 0.5; math.Abs(mean-d.Mean()) > tol {
		t.Errorf("mean flow size %.2f, distribution mean %.2f (tolerance %.2f)", mean, d.Mean(), tol)
	}
}

// TestGenerate_LargestFrames generates frames of the largest length the
// generator accepts, over IPv4 and IPv6, TCP and UDP: every length field
// must hold its true value (IP lengths are 16 bits, so a longer frame would
// wrap them) and every checksum verify.
func TestGenerate_LargestFrames(t *testing.T) {
	const largest = 65535 + 14 // the IPv4 total length field's limit, plus Ethernet
	pkts, err := capture.Generate(capture.GenConfig{Flows: 8, Packets: 64, IPv6Share: 0.5, UDPShare: 0.5, FrameSizes: []capture.FrameSize{{largest, 1}}, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range pkts {
		info, err := flow.Parse(p.Data)
		if err != nil {
			t.Fatalf("packet %d: %v", i+1, err)
		}
		ip := p.Data[info.L3Offset:]
		n := int(binary.BigEndian.Uint16(ip[2:])) // IPv4 total length
		if info.Key.Is6() {
			n = 40 + int(binary.BigEndian.Uint16(ip[4:])) // IPv6 header + payload length
		}
		if n != len(ip) {
			t.Fatalf("packet %d (%v, %d bytes): the IP header says %d bytes, the frame holds %d", i+1, info.Key, len(p.Data), n, len(ip))
		}
		if ipOK, l4OK, checked := checksums(p.Data); !checked || !ipOK || !l4OK {
			t.Fatalf("packet %d: checksums checked %v, IP %v, upper layer %v", i+1, checked, ipOK, l4OK)
		}
	}
	_, err = capture.Generate(capture.GenConfig{Flows: 1, FrameSizes: []capture.FrameSize{{largest + 1, 1}}})
	if want := fmt.Sprintf("frame size 0 must be in [60, %d] bytes, got %d", largest, largest+1); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("a %d-byte frame size: error %v, want %q", largest+1, err, want)
	}
}

func TestGenerate_Errors(t *testing.T) {
	for _, tc := range []struct {
		cfg capture.GenConfig
		msg string
	}{
		{capture.GenConfig{}, "flows must be in [1, 16777216], got 0"},
		{capture.GenConfig{Flows: 10, Packets: 5}, "packets must be 0 or in [flows, 268435456] (every flow has a packet), got 5 with 10 flows"},
		{capture.GenConfig{Flows: 10, Packets: 9}, "got 9 with 10 flows"},
		// One packet at this rate lasts exactly 2^63 ns, one more than a
		// time.Duration holds.
		{capture.GenConfig{Flows: 1, Packets: 1, Rate: 1e9 / 0x1p63}, "longer than a time.Duration holds"},
		{capture.GenConfig{Flows: 10, IPv6Share: 1.5}, "IPv6 share must be in [0, 1], got 1.5"},
		{capture.GenConfig{Flows: 10, UDPShare: math.NaN()}, "UDP share must be in [0, 1], got NaN"},
		{capture.GenConfig{Flows: 10, Rate: -1}, "rate must be a finite number of packets per second, at least 0, got -1"},
		{capture.GenConfig{Flows: 10, Concurrency: -1}, "concurrency must be at least 0, got -1"},
		{capture.GenConfig{Flows: 10, FrameSizes: []capture.FrameSize{{59, 1}}}, "frame size 0 must be in [60, 65549] bytes, got 59"},
		{capture.GenConfig{Flows: 10, FrameSizes: []capture.FrameSize{{60, 0}}}, "frame size 0 weight must be positive and finite, got 0"},
		{capture.GenConfig{Flows: 10, FrameSizes: []capture.FrameSize{}}, "frame sizes must be nil"},
		// Each weight finite, their sum not: every packet took the last
		// size, where the mix asks for half of each.
		{capture.GenConfig{Flows: 10, FrameSizes: []capture.FrameSize{{100, math.MaxFloat64}, {1000, math.MaxFloat64}}}, "weights must sum to a finite number, got +Inf"},
		{capture.GenConfig{Flows: 1 << 20, FlowSizes: capture.DataMining}, "exceed 268435456 packets; set Packets"},
	} {
		_, err := capture.Generate(tc.cfg)
		if err == nil || !strings.HasPrefix(err.Error(), "capture: generator") || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%+v: error %v, want %q", tc.cfg, err, tc.msg)
		}
	}
}

// TestGenerate_SmallFrames: the 60-byte IMIX size is kept over IPv4 and
// raised to the headers plus the 4-byte packet number over IPv6 (66 bytes
// for UDP, 78 for TCP), as Generate documents. SYNs carry no payload.
func TestGenerate_SmallFrames(t *testing.T) {
	for _, v6 := range []float64{0, 1} {
		pkts, err := capture.Generate(capture.GenConfig{Flows: 200, IPv6Share: v6, UDPShare: 0.5, FrameSizes: []capture.FrameSize{{60, 1}}, Seed: 9})
		if err != nil {
			t.Fatal(err)
		}
		sizes := map[string]map[int]int{}
		for _, p := range pkts {
			info, err := flow.Parse(p.Data)
			if err != nil {
				t.Fatal(err)
			}
			kind := fmt.Sprintf("v6=%v/udp", v6 == 1)
			if info.Key.Proto() == 6 {
				if p.Data[info.L4Offset+13]&0x02 != 0 { // SYN
					continue
				}
				kind = fmt.Sprintf("v6=%v/tcp", v6 == 1)
			}
			if sizes[kind] == nil {
				sizes[kind] = map[int]int{}
			}
			sizes[kind][len(p.Data)]++
		}
		want := map[string]int{"v6=false/udp": 60, "v6=false/tcp": 60, "v6=true/udp": 66, "v6=true/tcp": 78}
		for kind, got := range sizes {
			if len(got) != 1 || got[want[kind]] == 0 {
				t.Errorf("%s: frame lengths %v, want all %d", kind, got, want[kind])
			}
		}
		if len(sizes) != 2 {
			t.Errorf("IPv6 share %v: kinds %v, want UDP and TCP", v6, sizes)
		}
	}
}

// TestGenerate_SpanPastDuration: a trace whose duration (Packets over
// Rate) exceeds a time.Duration (about 292 years) is refused with an error
// naming the rate. Its packet times were converted from a float past
// int64's range, which wrapped: 1000 packets at 1e-7 per second (317
// years) ran from 2024 back to 1731, neither from Start nor in order.
func TestGenerate_SpanPastDuration(t *testing.T) {
	cfg := capture.GenConfig{Flows: 10, Packets: 1000, Rate: 1e-7, Seed: 1}
	pkts, err := capture.Generate(cfg)
	if err == nil {
		start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		for i, p := range pkts {
			if p.Time.Before(start) || (i > 0 && p.Time.Before(pkts[i-1].Time)) {
				t.Fatalf("packet %d at %v: before the start %v or the previous packet", i+1, p.Time, start)
			}
		}
		t.Fatal("a 317-year trace was generated without error")
	}
	if !strings.Contains(err.Error(), "rate") {
		t.Errorf("error %q does not name the rate", err)
	}
	// The longest trace a Duration holds is still generated in order.
	cfg.Rate = 1000 / 9e9
	if pkts, err = capture.Generate(cfg); err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(pkts); i++ {
		if pkts[i].Time.Before(pkts[i-1].Time) {
			t.Fatalf("packet %d goes back in time", i+1)
		}
	}
}

// TestGenerate_FlowContents checks what Generate documents of every
// packet: two distinct hosts of the pools 10.0.0.0/8 and fd00:dc::/32
// (never the pool's network address), a payload of zeros ending in the
// packet's number within its flow (1 for its first packet; a TCP flow's
// SYN carries none), and a FIN ending every TCP flow of several packets
// and no other packet.
func TestGenerate_FlowContents(t *testing.T) {
	pkts, err := capture.Generate(capture.GenConfig{Flows: 400, Packets: 4000, IPv6Share: 0.5, UDPShare: 0.5, Seed: 11})
	if err != nil {
		t.Fatal(err)
	}
	pool4, pool6 := netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00:dc::/32")
	seen := map[flow.Key]int{}
	last := map[flow.Key]int{} // index of each flow's last packet
	fins := map[flow.Key]int{}
	finAt := map[flow.Key]int{}
	for i, p := range pkts {
		info, err := flow.Parse(p.Data)
		if err != nil {
			t.Fatalf("packet %d: %v", i+1, err)
		}
		k := info.Key
		for _, a := range []netip.Addr{k.Src(), k.Dst()} {
			if !pool4.Contains(a) && !pool6.Contains(a) || a == pool4.Addr() || a == pool6.Addr() {
				t.Fatalf("packet %d: address %v outside the pools or their network address", i+1, a)
			}
		}
		if k.Src() == k.Dst() {
			t.Fatalf("packet %d: from %v to itself", i+1, k.Src())
		}
		ip := p.Data[info.L3Offset:]
		end := int(info.L3Offset) + 40 + int(binary.BigEndian.Uint16(ip[4:]))
		if k.Is4() {
			end = int(info.L3Offset) + int(binary.BigEndian.Uint16(ip[2:]))
		}
		l4 := p.Data[info.L4Offset:end]
		var payload []byte
		tcp := k.Proto() == flow.ProtoTCP
		if tcp {
			payload = l4[int(l4[12]>>4)*4:]
			if l4[13]&pkt.FIN != 0 {
				fins[k]++
				finAt[k] = i
			}
		} else {
			payload = l4[8:]
		}
		seen[k]++
		last[k] = i
		n := seen[k]
		if tcp && n == 1 {
			if l4[13]&pkt.SYN == 0 || len(payload) != 0 {
				t.Fatalf("packet %d: a TCP flow's first packet, flags %#x, %d bytes of payload; want a SYN without", i+1, l4[13], len(payload))
			}
			continue
		}
		if len(payload) < 4 || binary.BigEndian.Uint32(payload[len(payload)-4:]) != uint32(n) {
			t.Fatalf("packet %d, number %d of its flow: payload ends in % x", i+1, n, payload[max(0, len(payload)-4):])
		}
		if !bytes.Equal(payload[:len(payload)-4], make([]byte, len(payload)-4)) {
			t.Fatalf("packet %d: payload before the number is not zeros", i+1)
		}
	}
	for k, n := range seen {
		if k.Proto() != flow.ProtoTCP {
			continue
		}
		want := 0
		if n > 1 {
			want = 1
		}
		if fins[k] != want || n > 1 && finAt[k] != last[k] {
			t.Errorf("TCP flow %v of %d packets: %d FINs, want %d, on its last packet", k, n, fins[k], want)
		}
	}
}

// TestFlowSizes_MomentsByIntegration computes Mean and StdDev a second
// way: of the empirical tables from their quantiles (E[X^k] is the
// integral of Q(u)^k over u, taken with a million midpoints of Sample,
// whose rounding to whole packets moves the moments by far less than the
// 1% allowed), and of bounded Pareto distributions by integrating x^k
// times the density alpha L^alpha x^(-alpha-1) / (1 - (L/H)^alpha) over
// [L, H] numerically, among them alpha equal to k, where the closed form
// has a logarithm.
func TestFlowSizes_MomentsByIntegration(t *testing.T) {
	near := func(got, want float64) bool { return math.Abs(got-want) <= 0.01*want }
	for _, d := range []capture.FlowSizes{capture.WebSearch, capture.DataMining} {
		const n = 1_000_000
		var m1, m2 float64
		for i := range n {
			x := float64(d.Sample((float64(i) + 0.5) / n))
			m1 += x / n
			m2 += x * x / n
		}
		if sd := math.Sqrt(m2 - m1*m1); !near(d.Mean(), m1) || !near(d.StdDev(), sd) {
			t.Errorf("%v: mean %.1f, standard deviation %.1f; by quantiles %.1f and %.1f", d, d.Mean(), d.StdDev(), m1, sd)
		}
	}
	for _, c := range []struct {
		alpha    float64
		min, max int
	}{{1, 5, 1000}, {2, 3, 500}, {1.2, 1, 10000}, {0.5, 1, 4}} {
		d, err := capture.Pareto(c.alpha, c.min, c.max)
		if err != nil {
			t.Fatal(err)
		}
		l, h := float64(c.min), float64(c.max)
		norm := c.alpha * math.Pow(l, c.alpha) / (1 - math.Pow(l/h, c.alpha))
		// Simpson's rule in y = ln x: the integrand x^k f(x) dx = x^(k+1) f(x) dy.
		moment := func(k float64) float64 {
			const steps = 100_000
			a, b := math.Log(l), math.Log(h)
			dy := (b - a) / steps
			var s float64
			for i := 0; i <= steps; i++ {
				x := math.Exp(a + float64(i)*dy)
				w := 2.0
				if i == 0 || i == steps {
					w = 1
				} else if i%2 == 1 {
					w = 4
				}
				s += w * norm * math.Pow(x, k-c.alpha)
			}
			return s * dy / 3
		}
		m1, m2 := moment(1), moment(2)
		if sd := math.Sqrt(m2 - m1*m1); !near(d.Mean(), m1) || !near(d.StdDev(), sd) {
			t.Errorf("%v: mean %.3f, standard deviation %.3f; by integration %.3f and %.3f", d, d.Mean(), d.StdDev(), m1, sd)
		}
	}
}
