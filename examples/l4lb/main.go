//go:build linux

// Command l4lb is a load balancer end to end, in network namespaces: a
// client sends UDP and TCP requests to a VIP; a router sends them to the
// load balancer, where the maglev/xdp kernel picks a backend with a Maglev
// table, encapsulates the packet (IP in IP) and sends it back out
// (XDP_TX); the router delivers it to the backend, which decapsulates it
// and answers the client directly (direct server return). It prints each
// backend's share of the answers beside its share of the table, and the
// kernel's counters. With -path-mtu below 1500 and -tcp-bytes above it,
// TCP answers need path MTU discovery: the router's "fragmentation
// needed" goes to the VIP, and the balancer sends it to the backend that
// sent the segment (run with -path-mtu 1280 -tcp-bytes 20000). With
// -drain N it then drains backend N (weight 0), sends the UDP flows again
// from the same ports and a line on 30 TCP connections it opened before
// the drain, and reports which flows moved and which connections broke;
// then new TCP connections show that the drained backend gets no more.
// With -conntrack the balancer tracks connections, so that none moves or
// breaks, and new UDP flows, like the new connections, avoid the drained
// backend.
//
// With -6 the whole network runs over IPv6: fd00:200::/32 addresses, an
// IPv6 VIP and backends, IPv6 in IPv6 tunnels from the balancer's
// Config.Src6. Path MTU discovery then goes through ICMPv6 "packet too
// big": an error of 1280 bytes, most of it the quoted segment, which
// reaches the backend as a 1320-byte outer packet, so every link but the
// narrow one keeps 1500. IPv6 links carry at least 1280 bytes, so
// -path-mtu is then 1280 to 1500 (run with -6 -path-mtu 1280 -tcp-bytes
// 20000 -drain 2).
//
// It needs root (namespaces, BPF), iproute2's ip command and sysctl
// (procps). It creates namespaces named
// l4lb<pid>{c,r,lb,b1,...} with veth pairs inside them and deletes them
// all when done, also on SIGINT, SIGTERM or SIGHUP (and then exits with
// 128 plus the signal's number, as a shell reports a command that signal
// ended); no traffic leaves them. A run killed otherwise (SIGKILL) leaves
// its namespaces behind (its XDP programs go with the process): delete
// them with "ip netns del".
// A run whose namespace names are taken (a killed run's, or a live run's
// with the same pid in another pid namespace, as in two containers)
// stops with an error naming the namespace, and leaves it alone.
//
// Backends decapsulate with a small XDP program (decap.bpf.c) rather than
// an ipip device, so the example also runs on kernels built without
// CONFIG_NET_IPIP; with ipip available, "ip link add ipip0 type ipip
// local <backend>" on each backend does the same job (with -6, an ip6tnl
// device in mode ip6ip6). Like those devices, the program takes only the
// packets addressed to its backend (each backend loads its own copy, with
// its address set before loading), and hands a congestion mark (ECN CE)
// that a router set on the outer header on to the inner packet, as RFC
// 6040 section 4.2 says; decap.bpf.c has the rules.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

func main() {
	o, err := parseArgs(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		os.Exit(2) // parseArgs has printed the error and the usage
	}
	if w := o.warning(); w != "" {
		fmt.Fprintln(os.Stderr, "l4lb: warning:", w)
	}
	o.Log = os.Stderr
	// SIGHUP too: a terminal or SSH session closing must not kill the run
	// half way, leaving its namespaces behind.
	ctx, stop := notifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	res, err := run(ctx, o)
	report(os.Stdout, res)
	if ctx.Err() != nil {
		// Interrupted (SIGINT, SIGTERM or SIGHUP): the run has cleaned up; say
		// so, with any other error, and exit with the status a shell gives a
		// command that signal ended (130, 143 or 129).
		if err := withoutCanceled(err); err != nil {
			fmt.Fprintln(os.Stderr, "l4lb:", err)
		}
		fmt.Fprintln(os.Stderr, "l4lb: interrupted:", context.Cause(ctx))
		os.Exit(exitStatus(ctx))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "l4lb:", err)
		os.Exit(1)
	}
}

// signalCause is the cause of a context that notifyContext canceled.
type signalCause struct{ sig os.Signal }

func (c signalCause) Error() string { return c.sig.String() + " signal received" }

// notifyContext is signal.NotifyContext, but for the cause it gives the
// canceled context: a signalCause, which names the signal's number.
func notifyContext(parent context.Context, sigs ...os.Signal) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, sigs...)
	go func() {
		select {
		case s := <-ch:
			cancel(signalCause{s})
		case <-ctx.Done():
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		cancel(nil)
	}
}

// exitStatus is the status for a run that ctx's cancellation stopped:
// 128 plus the signal's number, as a shell reports a command that a
// signal ended, or SIGINT's 130 when the cause is not a signal's.
func exitStatus(ctx context.Context) int {
	var c signalCause
	if errors.As(context.Cause(ctx), &c) {
		if s, ok := c.sig.(syscall.Signal); ok {
			return 128 + int(s)
		}
	}
	return 128 + int(syscall.SIGINT)
}

// withoutCanceled returns err without its context.Canceled parts: nil if
// that is all it holds. An error wrapping one that holds more is kept
// whole, context.Canceled and all, rather than lost with it.
func withoutCanceled(err error) error {
	if !errors.Is(err, context.Canceled) {
		return err
	}
	switch e := err.(type) {
	case interface{ Unwrap() []error }:
		var rest []error
		for _, e := range e.Unwrap() {
			rest = append(rest, withoutCanceled(e))
		}
		return errors.Join(rest...)
	case interface{ Unwrap() error }:
		if withoutCanceled(e.Unwrap()) != nil {
			return err
		}
	}
	return nil
}

// parseArgs reads the command line (without the program name). It writes
// errors and the usage to stderr. Values out of range are usage errors
// too, like flag syntax errors: main exits with status 2 for both. The
// example takes flags only: a stray argument is an error rather than
// silently ignored, so that a mistyped flag ("-tcp 5 10") is not run with
// values the user did not mean.
func parseArgs(args []string, stderr io.Writer) (Options, error) {
	var o Options
	fs := flag.NewFlagSet("l4lb", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usageText)
		fs.PrintDefaults()
	}
	fs.IntVar(&o.Backends, "backends", 3, "number of backends (1 to 9)")
	fs.IntVar(&o.UDP, "udp", 300, "UDP requests (each from a new socket, on a source port the kernel picks)")
	fs.IntVar(&o.TCP, "tcp", 60, "TCP connections")
	fs.Uint64Var(&o.Seed, "seed", 1, "seed of the flow hash and of the table")
	fs.IntVar(&o.TCPBytes, "tcp-bytes", 0, "length of each TCP answer (0: the backend's name and a newline)")
	fs.IntVar(&o.PathMTU, "path-mtu", 0, "MTU of the router's link to the client, 68 to 1500, or 1280 to 1500 with -6 (0: 1500); below 1500, long TCP answers need path MTU discovery through the balancer")
	fs.BoolVar(&o.IPv6, "6", false, "run over IPv6: IPv6 addresses, VIP and backends (IPv6 in IPv6 tunnels), ICMPv6 packet too big for -path-mtu")
	fs.IntVar(&o.Drain, "drain", 0, "after the requests, drain this backend (1 to -backends; 0: none): set every VIP again with its weight 0 and send the UDP flows again from the same ports, to see which flows move, a line on 30 TCP connections opened before the drain, to see which break, and -tcp new connections (-tcp at most 10000 then), none of them to the drained backend")
	fs.BoolVar(&o.ConnTrack, "conntrack", false, "track connections in the balancer: with -drain, the UDP flows sent again and the TCP connections held open stay on their backends, the drained one too, and -udp new UDP flows go out before the new connections (-udp at most 12768 then), none of them to the drained backend")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		err := fmt.Errorf("unexpected argument %q: l4lb takes flags only", fs.Arg(0))
		fmt.Fprintf(stderr, "l4lb: %v\n", err)
		fs.Usage()
		return o, err
	}
	if err := o.check(); err != nil {
		fmt.Fprintf(stderr, "l4lb: %v\n", err)
		fs.Usage()
		return o, err
	}
	return o, nil
}

const usageText = `Usage: l4lb [flags]

l4lb builds a small network in namespaces (a client, a router, a load
balancer running the maglev/xdp kernel, and backends that decapsulate
with XDP and answer the client directly), sends UDP and TCP requests to
a VIP, and prints each backend's share of the answers beside its share of
the Maglev table, with the kernel's counters. It needs root (network
namespaces and BPF), iproute2's ip and sysctl; it deletes everything it
creates, also on Ctrl-C. A run takes about a second (more with many
requests or a broken path). To exercise path MTU discovery through the
balancer as well:

  l4lb -path-mtu 1280 -tcp-bytes 20000

and to drain backend 2 and see which flows move (all of its own, next
to none of the others'), which TCP connections held open across the
drain break (its own, and the few others the new table moves), and that
new connections avoid it:

  l4lb -drain 2

With connection tracking in the balancer, a drain moves no flow and
breaks no connection: the drained backend keeps what it has and gets
nothing new:

  l4lb -conntrack -drain 2

With -6 everything runs over IPv6 (ICMPv6 packet too big for the path
MTU, whose floor is then 1280):

  l4lb -6 -path-mtu 1280 -tcp-bytes 20000 -drain 2

Flags:
`

// warning returns what is wrong with options that are valid but do not
// do what they suggest, or "": a -path-mtu that no packet exceeds
// exercises nothing.
func (o Options) warning() string {
	if o.PathMTU == 0 || o.PathMTU >= 1500 {
		return ""
	}
	if o.TCP == 0 {
		return fmt.Sprintf("-path-mtu %d with -tcp 0: no TCP answer, so no path MTU discovery", o.PathMTU)
	}
	// A TCP answer's largest packet: its bytes (at least the backend's
	// name and a newline) and at most the family's IP header (Linux
	// sends no IPv4 options or IPv6 extension headers) and 60 bytes of
	// TCP header.
	f := family{o.IPv6}
	if n := max(o.TCPBytes, len(f.backend(9))+1) + f.ipHeader() + 60; n <= o.PathMTU {
		return fmt.Sprintf("-path-mtu %d with -tcp-bytes %d: no TCP answer exceeds the path MTU, so no path MTU discovery; try -tcp-bytes 20000", o.PathMTU, o.TCPBytes)
	}
	return ""
}

// legend ends the report: what its less obvious columns and counters
// mean.
const legend = "(table: share of the Maglev table; kernel pkts: packets sent to the backend, handshakes and ICMP errors included, hence more than answers; passed: left to the stack, ARP and neighbour traffic)"

// report writes the answers per backend and the kernel's counters to w.
func report(w io.Writer, res Result) {
	if len(res.Backends) == 0 {
		return
	}
	total := 0
	for _, n := range res.Answered {
		total += n
	}
	fmt.Fprintf(w, "%d requests (%d UDP, %d TCP), %d answered (%d after a retry), %d by the backend the Go table predicts\n",
		res.Sent, res.Sent-res.SentTCP, res.SentTCP, total, res.Retried, res.Agree)
	// The backend column fits IPv4's names with a space to spare, and
	// widens for IPv6's.
	width := 12
	for _, b := range res.Backends {
		width = max(width, len(b))
	}
	fmt.Fprintf(w, "%-*s %8s %8s %8s %11s %12s\n", width, "backend", "answers", "share", "table", "kernel pkts", "kernel bytes")
	names := append([]string(nil), res.Backends...)
	sort.Strings(names)
	for _, b := range names {
		share := 0.0
		if total > 0 {
			share = float64(res.Answered[b]) / float64(total)
		}
		var pk, by uint64
		for a, s := range res.Stats.Backends {
			if a.String() == b {
				pk, by = s.Packets, s.Bytes
			}
		}
		fmt.Fprintf(w, "%-*s %8d %7.1f%% %7.1f%% %11d %12d\n", width, b, res.Answered[b], 100*share, 100*res.TableFrac[b], pk, by)
	}
	c := res.Stats.Counters
	fmt.Fprintf(w, "kernel: tx %d (ICMP errors with the flow they quote %d), passed %d (not a VIP %d), dropped %d\n", c.TX, c.ICMPQuote,
		c.PassParse+c.PassVLAN+c.PassNotVIP+c.PassFragMiss, c.PassNotVIP,
		c.DropNoBackend+c.DropNoTable+c.DropTooBig+c.DropEncap+c.DropNoSource)
	if d := res.Drain; d.Backend != "" && d.ConnTrack {
		fmt.Fprintf(w, "drain %s (it held %.1f%% of the table), connections tracked: %d UDP flows again, %d answered; %d moved: %d of its %d, %d of the other backends'\n",
			d.Backend, 100*d.Share, d.Flows, d.Answered, d.Moved, d.MovedOwn, d.Own, d.Moved-d.MovedOwn)
	} else if d.Backend != "" {
		fmt.Fprintf(w, "drain %s (it held %.1f%% of the table): %d UDP flows again, %d answered, %d by the backend the new table predicts; %d moved: %d of its %d, %d of the other backends' (the tables move %.1f%% of the hash space)\n",
			d.Backend, 100*d.Share, d.Flows, d.Answered, d.Agree, d.Moved, d.MovedOwn, d.Own, d.Moved-d.MovedOwn, 100*d.Predicted)
	}
	if d := res.Drain; d.Sessions > 0 {
		fmt.Fprintf(w, "%d TCP connections held open across the drain (%d of them the drained backend's): %d kept their backend, %d broke; the new table sends %d elsewhere\n",
			d.Sessions, d.SessionsOwn, d.SessionsKept, d.SessionsBroken, d.SessionsAway)
	}
	for _, n := range []struct {
		what string
		NewFlows
	}{{"UDP flows", res.Drain.NewUDP}, {"TCP connections", res.Drain.NewTCP}} {
		if n.Sent > 0 {
			fmt.Fprintf(w, "then %d new %s, %d answered, %d by the backend the new table predicts, %d by the drained backend\n",
				n.Sent, n.what, n.Answered, n.Agree, n.Drained)
		}
	}
	fmt.Fprintln(w, legend)
}
