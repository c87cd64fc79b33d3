//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/rlimit"
	"golang.org/x/sys/unix"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/maglev"
	"github.com/dataplane-go/dataplane/maglev/xdp"
)

// Options of one run.
type Options struct {
	Backends int // backends (1 to 9)
	// UDP requests, each from a new socket on a source port the kernel
	// picks (0 or more; at most 12768 with Drain and ConnTrack). Ports may
	// come back in a long run (a few hundred of 5000 did): such a request
	// is its flow sent again, and counts again among the flows a drain
	// sends again.
	UDP  int
	TCP  int    // TCP connections (0 or more; at most 10000 with Drain)
	Seed uint64 // flow-hash and table seed
	// TCPBytes is the length of each TCP answer: the backend's name, a
	// newline and filler. Less than the name and newline means the name
	// and newline alone.
	TCPBytes int
	// PathMTU is the MTU of the router's link towards the client (68 to
	// 1500, or 1280 to 1500 with IPv6; 0 leaves it at 1500). Below 1500,
	// TCP answers longer than it go through path MTU discovery: the
	// router's "fragmentation needed" (ICMPv6 "packet too big") goes to
	// the VIP, and the balancer must send it to the backend that sent the
	// segment.
	PathMTU int
	// Drain is a backend (1 to Backends; 0: none) to drain after the
	// requests. First drainSessions TCP connections to a port of their own
	// (sessionPort) are opened and answered once; then every VIP's table
	// is set again with the backend's weight 0, the UDP requests are sent
	// again from the same ports (the same flows), to see which flows move,
	// each connection is answered once more, to see which break (a
	// connection the new table sends to another backend is reset there),
	// and as many new TCP connections as TCP are made (from source ports
	// the first round cannot have used), none of which may reach the
	// drained backend.
	Drain int
	// ConnTrack turns on the balancer's connection tracking
	// (maglev/xdp Options.ConnTrack), which keeps a flow on its backend
	// while that backend stays in the VIP's table, weight 0 included.
	// With Drain, the UDP flows sent again and the TCP connections held
	// open should then all stay where they were, the drained backend's
	// too, and as many new UDP flows as UDP are sent after them, like the
	// new TCP connections, none of which may reach the drained backend.
	ConnTrack bool
	// IPv6 runs the whole network over IPv6: addresses, VIP, backends
	// (IPv6 in IPv6 tunnels) and requests. PathMTU is then 0 or at least
	// 1280, IPv6's minimum link MTU, and the router's errors are ICMPv6
	// "packet too big".
	IPv6 bool
	Log  io.Writer
}

// Result is what the client saw and the kernel counted.
type Result struct {
	Backends  []string           // backend addresses, in table order
	Answered  map[string]int     // requests answered, by backend
	Sent      int                // requests sent (with an outcome: answered or given up)
	SentTCP   int                // of which TCP
	Retried   int                // requests answered only after a retry
	Drain     Drained            // what -drain did (Backend "": no drain)
	flows     []udpFlow          // the UDP requests answered
	Agree     int                // answers from the backend the Go table predicts
	TableFrac map[string]float64 // each backend's share of the table
	Stats     xdp.Stats
}

// Addresses: the client, a router, the load balancer and the backends
// each live in their own network namespace, joined to the router by veth
// pairs (one /24 per link, or one /64 with -6). The VIP is routed by the
// router to the load balancer, whose address on its link is the outer
// source of its tunnels.
//
//	client 10.200.1.2 --- 10.200.1.1 router 10.200.2.1 --- 10.200.2.2 lb (XDP)
//	                                 router 10.200.1i.1 --- 10.200.1i.2 backend i (VIP on lo)
//
// With -6 the same digits make IPv6 addresses in the unique local
// fd00::/8 (10.200.l.h becomes fd00:200:l::h):
//
//	client fd00:200:1::2 --- fd00:200:1::1 router fd00:200:2::1 --- fd00:200:2::2 lb (XDP)
//	                                       router fd00:200:1i::1 --- fd00:200:1i::2 backend i (VIP on lo)
const (
	vip     = "10.200.100.1"
	vip6    = "fd00:200:100::1"
	udpPort = 7000
	tcpPort = 7001
)

// family is the address plan of one IP version.
type family struct{ six bool }

// addr is host h of link l.
func (f family) addr(l, h int) string {
	if f.six {
		return fmt.Sprintf("fd00:200:%d::%d", l, h)
	}
	return fmt.Sprintf("10.200.%d.%d", l, h)
}

// cidr is host h of link l with the link's prefix length.
func (f family) cidr(l, h int) string {
	if f.six {
		return f.addr(l, h) + "/64"
	}
	return f.addr(l, h) + "/24"
}

func (f family) backend(i int) string { return f.addr(10+i, 2) }

// lb is the load balancer's address: the router's next hop for the VIP
// and the outer source of the tunnels.
func (f family) lb() string { return f.addr(2, 2) }

func (f family) vip() string {
	if f.six {
		return vip6
	}
	return vip
}

// vipHost is the VIP as a host route's and a loopback address's prefix.
func (f family) vipHost() string {
	if f.six {
		return vip6 + "/128"
	}
	return vip + "/32"
}

// addrAdd is the ip command that gives dev the address cidr. An IPv6
// address is added with nodad: without it the address stays tentative
// (neither bound nor answered for) until a kernel worker, late on a busy
// machine, has marked it usable, DAD off or not.
func (f family) addrAdd(cidr, dev string) []string {
	if f.six {
		return []string{"addr", "add", cidr, "dev", dev, "nodad"}
	}
	return []string{"addr", "add", cidr, "dev", dev}
}

// defaultRoute is ip route's destination for a default route: "default"
// alone means IPv4's to ip.
func (f family) defaultRoute() string {
	if f.six {
		return "::/0"
	}
	return "default"
}

// network is Go's network name of proto ("udp" or "tcp") in the family.
func (f family) network(proto string) string {
	if f.six {
		return proto + "6"
	}
	return proto + "4"
}

// minMTU is the family's smallest link MTU: IPv4's 68, IPv6's 1280 (Linux
// turns IPv6 off on a link set below it).
func (f family) minMTU() int {
	if f.six {
		return 1280
	}
	return 68
}

// ipHeader is the largest IP header Linux puts on a TCP segment: no IPv4
// options, no IPv6 extension header.
func (f family) ipHeader() int {
	if f.six {
		return 40
	}
	return 20
}

// topo is the set of namespaces one run creates; close deletes them all
// (which deletes every veth inside).
type topo struct {
	prefix string
	fam    family
	ns     []string
}

func (t *topo) name(role string) string { return t.prefix + role }

// command is exec.Command with the child in a process group of its own:
// a Ctrl-C at the terminal (SIGINT to the terminal's foreground group)
// then reaches only the example, which cleans up, and never kills an "ip
// netns add" half way (the namespace made but not yet recorded).
func command(name string, args ...string) *exec.Cmd {
	c := exec.Command(name, args...)
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return c
}

func (t *topo) ip(args ...string) error {
	out, err := command("ip", args...).CombinedOutput()
	return commandError(append([]string{"ip"}, args...), err, out)
}

// commandError is the error of a command line that failed with err
// after printing out (nil if err is nil): the command, err and out, if
// the command printed anything.
func commandError(argv []string, err error, out []byte) error {
	if err == nil {
		return nil
	}
	err = fmt.Errorf("%s: %w", strings.Join(argv, " "), err)
	if msg := strings.TrimSpace(string(out)); msg != "" {
		err = fmt.Errorf("%w: %s", err, msg)
	}
	return err
}

// in runs ip inside the namespace of role.
func (t *topo) in(role string, args ...string) error {
	return t.ip(append([]string{"-n", t.name(role)}, args...)...)
}

// addNS creates the namespace of role. It records the name first, so
// that close deletes the namespace even if "ip netns add" was killed after
// making it; but a namespace of that name that exists already is not
// this run's, and is neither recorded nor touched: it belongs to another
// run whose process has the same pid (in another pid namespace: every
// container's first process is pid 1), or was left by a run that was
// killed (SIGKILL, or a test binary's timeout) before it could clean up.
// close used to delete it, pulling the namespace from under a live run.
func (t *topo) addNS(role string) error {
	name := t.name(role)
	if _, err := os.Stat("/run/netns/" + name); err == nil {
		return errNSExists(name)
	}
	t.ns = append(t.ns, name)
	if err := t.ip("netns", "add", name); err != nil {
		if strings.Contains(err.Error(), "File exists") {
			// Made by another run between the check and the add.
			t.ns = t.ns[:len(t.ns)-1]
			return fmt.Errorf("%w (%w)", errNSExists(name), err)
		}
		return err
	}
	if t.fam.six {
		// The link-local addresses the kernel gives the veths made next
		// (out of nodad's reach) skip DAD too: the router solicits its
		// neighbours from them, and would otherwise stay silent for a
		// second.
		if err := t.sysctl(role, "net.ipv6.conf.default.accept_dad", "0"); err != nil {
			return err
		}
	}
	return t.in(role, "link", "set", "lo", "up")
}

// errNSExists is the error of a namespace name that is taken already.
func errNSExists(name string) error {
	return fmt.Errorf("namespace %s exists already: another run's, or left by one that was killed (if no run uses it, delete it with ip netns del %s)", name, name)
}

// link joins roles a and b with a veth pair named an (in a) and bn (in b),
// created directly inside the namespaces: nothing appears in the caller's.
func (t *topo) link(a, an, aAddr, b, bn, bAddr string) error {
	if err := t.ip("link", "add", an, "netns", t.name(a), "type", "veth", "peer", "name", bn, "netns", t.name(b)); err != nil {
		return err
	}
	var cmds [][]string
	for _, s := range [][3]string{{a, an, aAddr}, {b, bn, bAddr}} {
		cmds = append(cmds, append([]string{s[0]}, t.fam.addrAdd(s[2], s[1])...), []string{s[0], "link", "set", s[1], "up"})
	}
	if t.fam.six {
		// An IPv6 address added while its link is not ready (down, or
		// its peer down) answers no neighbour solicitation until the
		// kernel has seen the link come up, up to a second later (the
		// first request then waits for a retransmitted solicitation);
		// added once both ends are up, it is usable at once.
		cmds = [][]string{cmds[1], cmds[3], cmds[0], cmds[2]}
	}
	for _, c := range cmds {
		if err := t.in(c[0], c[1:]...); err != nil {
			return err
		}
	}
	return nil
}

func (t *topo) sysctl(role, key, val string) error {
	return t.ip("netns", "exec", t.name(role), "sysctl", "-q", "-w", key+"="+val)
}

// close deletes every namespace recorded, in reverse order. A recorded
// namespace that does not exist (its "ip netns add" failed) is not an
// error.
func (t *topo) close() error {
	var errs []error
	for i := len(t.ns) - 1; i >= 0; i-- {
		if _, err := os.Stat("/run/netns/" + t.ns[i]); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err := t.ip("netns", "del", t.ns[i]); err != nil {
			errs = append(errs, err)
		}
	}
	t.ns = nil
	return errors.Join(errs...)
}

// inNS runs f on an OS thread that has entered the namespace of role:
// sockets and netlink calls made in f belong to that namespace.
func (t *topo) inNS(role string, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// The thread is not unlocked: if returning to the original
		// namespace failed it must die with the goroutine.
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			errc <- err
			return
		}
		defer orig.Close()
		target, err := os.Open("/run/netns/" + t.name(role))
		if err != nil {
			errc <- err
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("enter namespace %s: %w", t.name(role), err)
			return
		}
		ferr := f()
		if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- errors.Join(ferr, err)
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// listen opens a backend's servers in the namespace of role: UDP on the
// VIP's udpPort, TCP on its tcpPort and sessionPort. On error it leaves
// none open (an open socket would keep the namespace alive after it is
// deleted).
func (t *topo) listen(role string) (uc net.PacketConn, tl, sl net.Listener, err error) {
	f := t.fam
	err = t.inNS(role, func() error {
		var err error
		if uc, err = net.ListenPacket(f.network("udp"), net.JoinHostPort(f.vip(), fmt.Sprint(udpPort))); err != nil {
			return err
		}
		if tl, err = net.Listen(f.network("tcp"), net.JoinHostPort(f.vip(), fmt.Sprint(tcpPort))); err != nil {
			uc.Close()
			return err
		}
		if sl, err = net.Listen(f.network("tcp"), net.JoinHostPort(f.vip(), fmt.Sprint(sessionPort))); err != nil {
			uc.Close()
			tl.Close()
		}
		return err
	})
	if err != nil {
		return nil, nil, nil, err
	}
	return uc, tl, sl, nil
}

// build creates the namespaces and links.
func (t *topo) build(n int) error {
	roles := []string{"c", "r", "lb"}
	for i := 1; i <= n; i++ {
		roles = append(roles, fmt.Sprintf("b%d", i))
	}
	for _, r := range roles {
		if err := t.addNS(r); err != nil {
			return err
		}
	}
	f := t.fam
	steps := []func() error{
		func() error { return t.link("c", "c0", f.cidr(1, 2), "r", "rc", f.cidr(1, 1)) },
		func() error { return t.link("lb", "l0", f.cidr(2, 2), "r", "rl", f.cidr(2, 1)) },
		func() error { return t.in("c", "route", "add", f.defaultRoute(), "via", f.addr(1, 1)) },
		func() error { return t.in("lb", "route", "add", f.defaultRoute(), "via", f.addr(2, 1)) },
		func() error { return t.in("r", "route", "add", f.vipHost(), "via", f.lb()) },
	}
	if f.six {
		// IPv6 has no send_redirects: the router redirects only packets
		// that leave by the link they came in on, and none here do.
		steps = append(steps, func() error { return t.sysctl("r", "net.ipv6.conf.all.forwarding", "1") })
	} else {
		steps = append(steps,
			func() error { return t.sysctl("r", "net.ipv4.ip_forward", "1") },
			func() error { return t.sysctl("r", "net.ipv4.conf.all.send_redirects", "0") },
		)
	}
	for i := 1; i <= n; i++ {
		b := fmt.Sprintf("b%d", i)
		steps = append(steps,
			func() error {
				return t.link(b, "b0", f.cidr(10+i, 2), "r", fmt.Sprintf("rb%d", i), f.cidr(10+i, 1))
			},
			func() error { return t.in(b, "route", "add", f.defaultRoute(), "via", f.addr(10+i, 1)) },
			func() error { return t.in(b, f.addrAdd(f.vipHost(), "lo")...) },
		)
	}
	for _, s := range steps {
		if err := s(); err != nil {
			return err
		}
	}
	return nil
}

// run builds the topology, starts the load balancer and the backends,
// sends the client's traffic and tears everything down before returning,
// also when ctx is cancelled (SIGINT). Its errors name the flag at fault
// and carry no "l4lb:" prefix: main adds that.
func run(ctx context.Context, o Options) (res Result, err error) {
	if err := o.check(); err != nil {
		return res, err
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	_ = rlimit.RemoveMemlock()
	f := family{o.IPv6}
	t := &topo{prefix: fmt.Sprintf("l4lb%d", os.Getpid()), fam: f}
	defer func() {
		if cerr := t.close(); cerr != nil {
			err = errors.Join(err, cerr)
		}
	}()
	if err := t.build(o.Backends); err != nil {
		return res, needsRoot(err)
	}
	// Only the router's end of the client link gets the lower MTU, on
	// purpose: the client keeps 1500 and announces an MSS of 1460 (1440
	// over IPv6), so the backends send full-size segments and learn the
	// path MTU only from the router's "fragmentation needed" (ICMPv6
	// "packet too big"), as behind a real narrower link. Over IPv6 that
	// error quotes as much of the segment as fits in 1280 bytes, and
	// reaches the backend as a 1320-byte outer packet: every link but
	// this one keeps 1500 for it.
	if o.PathMTU != 0 {
		if err := t.in("r", "link", "set", "rc", "mtu", fmt.Sprint(o.PathMTU)); err != nil {
			return res, err
		}
	}
	backends := "b1"
	if o.Backends > 1 {
		backends = fmt.Sprintf("b1..b%d", o.Backends)
	}
	fmt.Fprintf(o.Log, "namespaces %s{c,r,lb,%s} ready\n", t.prefix, backends)

	// The backends: XDP decapsulation on b0 (generic mode: the checksum
	// offload state of the inner packet survives), one program a backend,
	// which takes the packets addressed to that backend alone; servers on
	// the VIP.
	var decaps []*decapObjects
	defer func() {
		for _, d := range decaps {
			d.Close()
		}
	}()
	for i := 1; i <= o.Backends; i++ {
		d, err := newDecap(netip.MustParseAddr(f.backend(i)))
		if err != nil {
			return res, needsRoot(err)
		}
		decaps = append(decaps, d)
	}
	var links []link.Link
	closeLinks := func() {
		for _, l := range links {
			l.Close()
		}
		links = nil
	}
	defer closeLinks()
	attach := func(role, dev string, prog *ebpf.Program) error {
		return t.inNS(role, func() error {
			ifc, err := net.InterfaceByName(dev)
			if err != nil {
				return err
			}
			l, err := link.AttachXDP(link.XDPOptions{Program: prog, Interface: ifc.Index, Flags: link.XDPGenericMode})
			if err != nil {
				return fmt.Errorf("attach XDP to %s in %s: %w", dev, t.name(role), err)
			}
			links = append(links, l)
			return nil
		})
	}
	var wg sync.WaitGroup
	defer wg.Wait() // runs after the servers are closed (defers run last first)
	var servers []io.Closer
	defer func() {
		for _, s := range servers {
			s.Close()
		}
	}()
	for i := 1; i <= o.Backends; i++ {
		role := fmt.Sprintf("b%d", i)
		if err := attach(role, "b0", decaps[i-1].XdpDecap); err != nil {
			return res, err
		}
		name := f.backend(i)
		uc, tl, sl, err := t.listen(role)
		if err != nil {
			return res, err
		}
		ss := &sessionServer{l: sl}
		servers = append(servers, uc, tl, ss)
		wg.Add(3)
		// Sessions: answer every line with our name.
		go ss.serve(name, &wg)
		go func() { // UDP: answer every datagram with our name
			defer wg.Done()
			buf := make([]byte, 1500)
			for {
				_, from, err := uc.ReadFrom(buf)
				if err != nil {
					return
				}
				uc.WriteTo([]byte(name), from)
			}
		}()
		go func() { // TCP: answer every connection with our name
			defer wg.Done()
			serveAnswers(tl, tcpAnswer(name, o.TCPBytes))
		}()
	}

	// The load balancer.
	opts := xdp.Options{Seed: o.Seed, Table: maglev.Params{Size: 65537, Seed: o.Seed}, ConnTrack: o.ConnTrack}
	lb, err := xdp.Load(opts)
	if err != nil {
		return res, needsRoot(err)
	}
	defer func() {
		closeLinks() // links first, then the kernel they run (xdp.LB.Close)
		lb.Close()
	}()
	var lbMAC, rtMAC net.HardwareAddr
	if err := t.inNS("lb", func() error {
		ifc, err := net.InterfaceByName("l0")
		if err != nil {
			return err
		}
		lbMAC = ifc.HardwareAddr
		return nil
	}); err != nil {
		return res, err
	}
	// The balancer sends every packet back to the router. Its MAC is
	// read from the router's interface here; a real deployment would take
	// the next hop's MAC from the neighbour table (ip neigh).
	if err := t.inNS("r", func() error {
		ifc, err := net.InterfaceByName("rl")
		if err != nil {
			return err
		}
		rtMAC = ifc.HardwareAddr
		return nil
	}); err != nil {
		return res, err
	}
	cfg := xdp.Config{SrcMAC: lbMAC, DstMAC: rtMAC}
	if f.six {
		cfg.Src6 = netip.MustParseAddr(f.lb())
	} else {
		cfg.Src4 = netip.MustParseAddr(f.lb())
	}
	if err := lb.SetConfig(cfg); err != nil {
		return res, err
	}
	var bs []xdp.Backend
	for i := 1; i <= o.Backends; i++ {
		bs = append(bs, xdp.Backend{Addr: netip.MustParseAddr(f.backend(i)), Weight: 1})
	}
	vipAddr := netip.MustParseAddr(f.vip())
	table, err := lb.SetVIP(xdp.VIP{Addr: vipAddr, Port: udpPort, Proto: flow.ProtoUDP}, bs)
	if err != nil {
		return res, err
	}
	if _, err := lb.SetVIP(xdp.VIP{Addr: vipAddr, Port: tcpPort, Proto: flow.ProtoTCP}, bs); err != nil {
		return res, err
	}
	if _, err := lb.SetVIP(xdp.VIP{Addr: vipAddr, Port: sessionPort, Proto: flow.ProtoTCP}, bs); err != nil {
		return res, err
	}
	// Attach once the VIPs and the config are set (LB.Attach checks
	// that it is ready). Generic mode is needed on veth here: native
	// XDP_TX on a veth needs an XDP program on its peer too (the
	// router's rl has none). On a real NIC use native mode (flags 0).
	if err := t.inNS("lb", func() error {
		ifc, err := net.InterfaceByName("l0")
		if err != nil {
			return err
		}
		l, err := lb.Attach(ifc.Index, link.XDPGenericMode)
		if err != nil {
			return fmt.Errorf("attach the balancer to l0 in %s: %w", t.name("lb"), err)
		}
		links = append(links, l)
		return nil
	}); err != nil {
		return res, err
	}
	res.TableFrac = map[string]float64{}
	for i := 0; i < table.Len(); i++ {
		res.Backends = append(res.Backends, table.Backend(i).Name)
		res.TableFrac[table.Backend(i).Name] = table.Shares()[i]
	}

	// The client.
	res.Answered = map[string]int{}
	predict := func(local net.Addr, port uint16, proto uint8) string {
		ap := netip.MustParseAddrPort(local.String())
		k, err := flow.KeyFrom(ap.Addr(), vipAddr, ap.Port(), port, proto)
		if err != nil {
			return "" // cannot happen: the client and the VIP share the family
		}
		i, _ := table.PickKey(&k, o.Seed)
		return table.Backend(i).Name
	}
	ask := func(tcp bool, from uint16) (a answer, err error) {
		network, port, proto := f.network("udp"), uint16(udpPort), uint8(flow.ProtoUDP)
		if tcp {
			network, port, proto = f.network("tcp"), tcpPort, flow.ProtoTCP
		}
		var local net.Addr
		switch {
		case from != 0 && tcp:
			local = &net.TCPAddr{Port: int(from)}
		case from != 0:
			local = &net.UDPAddr{Port: int(from)}
		}
		to := net.JoinHostPort(f.vip(), fmt.Sprint(port))
		err = t.inNS("c", func() error {
			var last error
			for try := 0; try < askTries; try++ { // the first packets may wait for ARP or neighbour discovery
				if ctx.Err() != nil {
					return ctx.Err()
				}
				a.Tries++
				d := net.Dialer{Timeout: askTimeout, LocalAddr: local}
				c, err := d.DialContext(ctx, network, to)
				if err != nil {
					last = err
					continue
				}
				c.SetDeadline(time.Now().Add(askTimeout))
				stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })
				if !tcp {
					c.Write([]byte("who are you?"))
					buf := make([]byte, 64)
					n, rerr := io.ReadAtLeast(c, buf, 1)
					a.Got, err = string(buf[:n]), rerr
				} else {
					a.Got, err = readAnswer(c, o.TCPBytes)
				}
				stop()
				a.Want = predict(c.LocalAddr(), port, proto)
				a.From = netip.MustParseAddrPort(c.LocalAddr().String()).Port()
				closeTry(c, err != nil)
				if err != nil {
					last = err
					continue
				}
				return nil
			}
			return fmt.Errorf("%s request to %s unanswered after %d tries: %w", network, to, askTries, last)
		})
		return a, err
	}
	errs := []error{send(ctx, o, &res, ask)}

	// Drain a backend: first open the sessions that stay open across the
	// drain; then every VIP's table again, the backend's weight 0, the UDP
	// flows of the first round again from the same ports, a line on every
	// session, new UDP flows with connection tracking and new TCP
	// connections.
	var sessions []*session
	if o.Drain > 0 && errs[0] == nil {
		sessions, err = openSessions(ctx, drainSessions, func() (c net.Conn, err error) {
			err = t.inNS("c", func() error {
				d := net.Dialer{Timeout: askTimeout}
				c, err = d.DialContext(ctx, f.network("tcp"), net.JoinHostPort(f.vip(), fmt.Sprint(sessionPort)))
				return err
			})
			return c, err
		})
		defer closeSessions(sessions)
		errs = append(errs, err)
	}
	if o.Drain > 0 && errors.Join(errs...) == nil {
		drained := f.backend(o.Drain)
		bs[o.Drain-1].Weight = 0
		old := table
		if table, err = lb.SetVIP(xdp.VIP{Addr: vipAddr, Port: udpPort, Proto: flow.ProtoUDP}, bs); err != nil {
			return res, err
		}
		// The TCP VIPs' tables are the UDP VIP's (same backends, same
		// parameters): predict uses the UDP one for them all.
		for _, port := range []uint16{tcpPort, sessionPort} {
			if ttable, err := lb.SetVIP(xdp.VIP{Addr: vipAddr, Port: port, Proto: flow.ProtoTCP}, bs); err != nil {
				return res, err
			} else if maglev.Moved(table, ttable) != 0 {
				return res, fmt.Errorf("the table of the TCP VIP's port %d differs from the UDP VIP's", port)
			}
		}
		fmt.Fprintf(o.Log, "backend %s drained: weight 0 in every VIP's table; the %d UDP flows again\n", drained, len(res.flows))
		before, serr := lb.Stats()
		res.Drain, err = resend(ctx, o, res.flows, drained, ask)
		after, aerr := lb.Stats()
		if err = errors.Join(err, serr, aerr); err == nil {
			res.Drain.Hits = after.ConnHit - before.ConnHit
		}
		res.Drain.Predicted = maglev.Moved(old, table)
		res.Drain.Share = res.TableFrac[drained]
		errs = append(errs, err)
		if err == nil {
			fmt.Fprintf(o.Log, "and a line on each of the %d sessions\n", len(sessions))
			err = resumeSessions(ctx, sessions, &res.Drain, func(s *session) bool {
				return predict(s.c.LocalAddr(), sessionPort, flow.ProtoTCP) != s.backend
			})
			errs = append(errs, err)
		}
		if o.ConnTrack && err == nil && o.UDP > 0 {
			fmt.Fprintf(o.Log, "and %d new UDP flows\n", o.UDP)
			res.Drain.NewUDP, err = sendNew(ctx, o, false, drained, ask)
			errs = append(errs, err)
		}
		if err == nil && o.TCP > 0 {
			fmt.Fprintf(o.Log, "and %d new TCP connections\n", o.TCP)
			res.Drain.NewTCP, err = sendNew(ctx, o, true, drained, ask)
			errs = append(errs, err)
		}
	}
	res.Stats, err = lb.Stats()
	if errors.Join(errs...) != nil && ctx.Err() == nil {
		// Some request went unanswered: show where packets stopped. Not
		// when interrupted (SIGINT), which is no failure of the path.
		t.logCounters(o.Log, res.Stats)
	}
	return res, errors.Join(append(errs, err)...)
}

// logCounters writes to w what shows where the packets of a failed run
// stopped: the balancer's counters, and for each namespace its
// interfaces' packet counters and its non-zero IP, ICMP, TCP and UDP
// counters (/proc/net/snmp and snmp6). Errors reading them are written
// in their place. ICMP and ICMPv6 checksum errors there (InCsumErrors)
// are how a qemu whose s390x checksum instruction was broken showed up.
func (t *topo) logCounters(w io.Writer, st xdp.Stats) {
	fmt.Fprintf(w, "balancer counters: %+v\n", st.Counters)
	for _, ns := range t.ns {
		role := strings.TrimPrefix(ns, t.prefix)
		out, err := command("ip", "-n", ns, "-s", "-o", "link").CombinedOutput()
		if err != nil {
			fmt.Fprintf(w, "%s: ip -s link: %v\n", role, err)
		} else {
			fmt.Fprintf(w, "%s interfaces:\n%s", role, out)
		}
		var counters []string
		err = t.inNS(role, func() error {
			for _, name := range []string{"snmp", "snmp6"} {
				b, err := os.ReadFile("/proc/thread-self/net/" + name)
				if err != nil {
					return err
				}
				counters = append(counters, nonZeroCounters(string(b))...)
			}
			return nil
		})
		if err != nil {
			fmt.Fprintf(w, "%s counters: %v\n", role, err)
			continue
		}
		fmt.Fprintf(w, "%s counters: %s\n", role, strings.Join(counters, " "))
	}
}

// nonZeroCounters returns the counters of a /proc/net/snmp text (pairs of
// lines "Proto: names" and "Proto: values") or snmp6 text (lines "name
// value") that are not zero, as name=value, with the protocol as a prefix
// in snmp's case (Icmp.InCsumErrors=3). Settings that sit among the
// counters (Ip.Forwarding, Ip.DefaultTTL, Tcp's RTO bounds and MaxConn)
// are left out.
func nonZeroCounters(text string) []string {
	var out []string
	lines := strings.Split(strings.TrimSpace(text), "\n")
	for i := 0; i < len(lines); i++ {
		f := strings.Fields(lines[i])
		if len(f) == 2 && !strings.HasSuffix(f[0], ":") { // snmp6
			if f[1] != "0" {
				out = append(out, f[0]+"="+f[1])
			}
			continue
		}
		if i+1 == len(lines) || len(f) == 0 {
			continue
		}
		v := strings.Fields(lines[i+1])
		if len(v) != len(f) || v[0] != f[0] {
			continue
		}
		i++
		proto := strings.TrimSuffix(f[0], ":")
		for k := 1; k < len(f); k++ {
			switch proto + "." + f[k] {
			case "Ip.Forwarding", "Ip.DefaultTTL", "Tcp.RtoAlgorithm", "Tcp.RtoMin", "Tcp.RtoMax", "Tcp.MaxConn":
				continue
			}
			if v[k] != "0" {
				out = append(out, proto+"."+f[k]+"="+v[k])
			}
		}
	}
	return out
}

// The client tries each request askTries times, waiting askTimeout for
// the answer each time, and stops the run after maxFailures requests in a
// row went unanswered (a broken path).
const (
	askTries    = 3
	askTimeout  = 2 * time.Second
	maxFailures = 5
)

// closeTry closes the connection of one try of a request. A failed TCP
// try is reset rather than closed: closing first, the client would hold
// its port (FIN-WAIT, then TIME-WAIT) and the next try, from the same
// port, would fail to bind it ("address already in use") instead of
// trying again.
func closeTry(c net.Conn, failed bool) {
	if tc, ok := c.(*net.TCPConn); ok && failed {
		tc.SetLinger(0)
	}
	c.Close()
}

// askFunc sends one request, TCP or UDP, from the client's port from (0:
// any), and returns its answer; err is nil if one try was answered.
type askFunc func(tcp bool, from uint16) (answer, error)

// answer is the outcome of one request.
type answer struct {
	Got   string // the backend that answered
	Want  string // the backend the Go table predicts
	From  uint16 // the client's port
	Tries int    // tries made (0 if none left, the run being interrupted)
}

// udpFlow is a UDP request of the first round: the client's port and the
// backend that answered.
type udpFlow struct {
	from    uint16
	backend string
}

// Drained is what draining a backend did to the first round's UDP flows,
// each sent again from the same port, to the TCP connections held open
// across it, and to new flows: TCP connections and, with connection
// tracking, UDP flows.
type Drained struct {
	Backend   string // the drained backend
	ConnTrack bool   // the balancer tracked connections (Options.ConnTrack)
	Flows     int    // UDP flows sent again
	Answered  int    // of which answered
	// Agree counts the answers from the backend expected: the one the new
	// table predicts or, with ConnTrack, the one the flow had.
	Agree     int
	Moved     int     // answered by another backend than in the first round
	MovedOwn  int     // of which flows the drained backend answered before
	Own       int     // answered flows the drained backend answered before
	Predicted float64 // share of the hash space that moves (maglev.Moved)
	Share     float64 // the drained backend's share of the old table
	// Hits is what the kernel's connection-hit counter (ConnHit) rose by
	// while the flows were sent again: at least one per flow with
	// ConnTrack, none without.
	Hits uint64

	// TCP connections held open across the drain (see sessionPort).
	Sessions       int // held open
	SessionsOwn    int // of which the drained backend's
	SessionsAway   int // that the new table sends to another backend than they had
	SessionsKept   int // answered after the drain, by the backend they had
	SessionsBroken int // that failed after the drain: reset, or no answer

	NewUDP NewFlows // with ConnTrack, the new UDP flows sent after the others
	NewTCP NewFlows // the new TCP connections made last
}

// NewFlows counts the flows sent for the first time after a drain.
type NewFlows struct {
	Sent     int // sent
	Answered int // of which answered
	Agree    int // answered by the backend the new table predicts
	Drained  int // answered by the drained backend (it should get none)
}

// resend sends each flow again from its port and counts, in the result,
// the flows that moved and whether they were the drained backend's. Each
// unanswered flow is logged; maxFailures in a row stop it.
func resend(ctx context.Context, o Options, flows []udpFlow, drained string, ask askFunc) (Drained, error) {
	if o.Log == nil {
		o.Log = io.Discard
	}
	d := Drained{Backend: drained, ConnTrack: o.ConnTrack}
	var fails failures
	for _, f := range flows {
		if ctx.Err() != nil {
			return d, ctx.Err()
		}
		a, err := ask(false, f.from)
		if err != nil && ctx.Err() != nil {
			return d, ctx.Err()
		}
		d.Flows++
		if stop := fails.note(err); err != nil {
			fmt.Fprintf(o.Log, "drain: flow from port %d: %v\n", f.from, err)
			if stop {
				return d, fmt.Errorf("drain: stopped after %d flows in a row went unanswered; the last: %w", maxFailures, err)
			}
			continue
		}
		d.Answered++
		want := a.Want
		if o.ConnTrack {
			want = f.backend // a tracked flow stays
		}
		if a.Got == want {
			d.Agree++
		}
		if f.backend == drained {
			d.Own++
		}
		if a.Got != f.backend {
			d.Moved++
			if f.backend == drained {
				d.MovedOwn++
			}
		}
	}
	if fails.n > 0 {
		return d, fmt.Errorf("drain: %d of %d flows unanswered; the last: %w", fails.n, d.Flows, fails.last)
	}
	return d, nil
}

// firstNewUDPPort and firstNewTCPPort are the first source ports of
// sendNew's UDP flows and TCP connections: below Linux's ephemeral ports
// (net.ipv4.ip_local_port_range, 32768 and up by default), from which the
// first round's flows took theirs, so that no new flow can be one the
// balancer already tracks. The TCP ones stay below the UDP ones.
const (
	firstNewTCPPort = 10000
	firstNewUDPPort = 20000
)

// ephemeralPorts is the first of Linux's default ephemeral ports, which a
// new network namespace starts with.
const ephemeralPorts = 32768

// sendNew makes o.TCP new TCP connections (tcp true) or sends o.UDP new
// UDP flows, from source ports firstNewTCPPort or firstNewUDPPort and up,
// and counts them: answered, as the new table predicts, and by the
// drained backend. Each unanswered one is logged; maxFailures in a row
// stop it.
func sendNew(ctx context.Context, o Options, tcp bool, drained string, ask askFunc) (NewFlows, error) {
	if o.Log == nil {
		o.Log = io.Discard
	}
	n, first, what := o.UDP, firstNewUDPPort, "UDP flows"
	if tcp {
		n, first, what = o.TCP, firstNewTCPPort, "TCP connections"
	}
	var nf NewFlows
	var fails failures
	for i := range n {
		if ctx.Err() != nil {
			return nf, ctx.Err()
		}
		from := uint16(first + i)
		a, err := ask(tcp, from)
		if err != nil && ctx.Err() != nil {
			return nf, ctx.Err()
		}
		nf.Sent++
		if stop := fails.note(err); err != nil {
			fmt.Fprintf(o.Log, "drain: new %s from port %d: %v\n", strings.TrimSuffix(what, "s"), from, err)
			if stop {
				return nf, fmt.Errorf("drain: stopped after %d new %s in a row went unanswered; the last: %w", maxFailures, what, err)
			}
			continue
		}
		nf.Answered++
		if a.Got == a.Want {
			nf.Agree++
		}
		if a.Got == drained {
			nf.Drained++
		}
	}
	if fails.n > 0 {
		return nf, fmt.Errorf("drain: %d of %d new %s unanswered; the last: %w", fails.n, nf.Sent, what, fails.last)
	}
	return nf, nil
}

// failures counts the unanswered requests of a round: in all, in a row,
// and the last one's error.
type failures struct {
	n, inARow int
	last      error
}

// note records a request's outcome (err nil: answered) and reports
// whether maxFailures requests in a row have now gone unanswered.
func (f *failures) note(err error) (stop bool) {
	if err == nil {
		f.inARow = 0
		return false
	}
	f.n++
	f.inARow++
	f.last = err
	return f.inARow == maxFailures
}

// send sends o.UDP UDP and o.TCP TCP requests through ask, TCP ones spread
// among the UDP ones, and counts them in res. A request counts as sent
// once its outcome is known: one cut short by ctx (SIGINT) counts neither
// as sent nor as answered. Each unanswered request is written to o.Log as
// it happens; after maxFailures in a row send stops with an error. When
// ctx is done it returns ctx's error.
func send(ctx context.Context, o Options, res *Result, ask askFunc) error {
	if o.Log == nil {
		o.Log = io.Discard
	}
	if res.Answered == nil {
		res.Answered = map[string]int{}
	}
	every := (o.UDP + o.TCP) / max(o.TCP, 1) // one TCP connection every this many requests
	tcpSent := 0
	var fails failures
	for k := 0; k < o.UDP+o.TCP; k++ {
		if ctx.Err() != nil {
			break
		}
		tcp := tcpSent < o.TCP && (k%every == 0 || o.UDP+o.TCP-k <= o.TCP-tcpSent)
		if tcp {
			tcpSent++
		}
		a, err := ask(tcp, 0)
		if err != nil && ctx.Err() != nil {
			break // interrupted: this request has no outcome
		}
		res.Sent++
		if tcp {
			res.SentTCP++
		}
		if stop := fails.note(err); err != nil {
			fmt.Fprintf(o.Log, "request %d: %v\n", res.Sent, err)
			if stop {
				return fmt.Errorf("stopped after %d requests in a row went unanswered (%d sent); the last: %w", maxFailures, res.Sent, err)
			}
			continue
		}
		res.Answered[a.Got]++
		if a.Got == a.Want {
			res.Agree++
		}
		if a.Tries > 1 {
			res.Retried++
		}
		if !tcp {
			res.flows = append(res.flows, udpFlow{a.From, a.Got})
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if fails.n > 0 {
		return fmt.Errorf("%d of %d requests unanswered; the last: %w", fails.n, res.Sent, fails.last)
	}
	return nil
}

// check refuses options out of range with an error naming the flag and
// the values it accepts.
func (o Options) check() error {
	if o.Backends < 1 || o.Backends > 9 {
		return fmt.Errorf("-backends must be in [1, 9], got %d", o.Backends)
	}
	if o.UDP < 0 {
		return fmt.Errorf("-udp must not be negative, got %d", o.UDP)
	}
	if o.TCP < 0 {
		return fmt.Errorf("-tcp must not be negative, got %d", o.TCP)
	}
	if o.TCPBytes < 0 || o.TCPBytes > maxTCPBytes {
		return fmt.Errorf("-tcp-bytes must be in [0, %d], got %d", maxTCPBytes, o.TCPBytes)
	}
	if lo := (family{o.IPv6}).minMTU(); o.PathMTU != 0 && (o.PathMTU < lo || o.PathMTU > 1500) {
		with := ""
		if o.IPv6 {
			with = " with -6"
		}
		return fmt.Errorf("-path-mtu must be 0 or in [%d, 1500]%s, got %d", lo, with, o.PathMTU)
	}
	if o.Drain < 0 || o.Drain > o.Backends {
		return fmt.Errorf("-drain must be 0 (none) or a backend, 1 to -backends (%d), got %d", o.Backends, o.Drain)
	}
	if o.Drain > 0 && o.Backends == 1 {
		return fmt.Errorf("-drain needs at least 2 backends (-backends), got 1")
	}
	if n := ephemeralPorts - firstNewUDPPort; o.ConnTrack && o.Drain > 0 && o.UDP > n {
		return fmt.Errorf("-udp must be at most %d with -conntrack and -drain (the new flows after the drain take source ports from %d up, which must stay below %d, where the first round's start), got %d",
			n, firstNewUDPPort, ephemeralPorts, o.UDP)
	}
	if n := firstNewUDPPort - firstNewTCPPort; o.Drain > 0 && o.TCP > n {
		return fmt.Errorf("-tcp must be at most %d with -drain (the new connections after the drain take source ports %d to %d, apart from those of the first round and of new UDP flows), got %d",
			n, firstNewTCPPort, firstNewUDPPort-1, o.TCP)
	}
	return nil
}

// needsRoot says that the example needs root when err is a permission
// error: EPERM or EACCES from a system call, or the message of an ip
// command that got one, but not the verifier's refusal of a program.
func needsRoot(err error) error {
	// The verifier's refusal is EACCES too, and the log says why:
	// privileges would not help.
	var ve *ebpf.VerifierError
	if err == nil || errors.As(err, &ve) {
		return err
	}
	msg := err.Error()
	if errors.Is(err, fs.ErrPermission) || strings.Contains(msg, "Operation not permitted") || strings.Contains(msg, "Permission denied") {
		return fmt.Errorf("needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN for the namespaces, CAP_BPF and CAP_PERFMON or CAP_SYS_ADMIN for the XDP programs): %w", err)
	}
	return err
}

// newDecap loads the decapsulator (decap.bpf.c) of a backend whose
// tunnel addresses are local: at most one IPv4 and one IPv6 address, for
// the outer destinations it takes. Every packet addressed elsewhere,
// and every packet of a family with no address here, passes untouched.
func newDecap(local ...netip.Addr) (*decapObjects, error) {
	spec, err := loadDecap()
	if err != nil {
		return nil, err
	}
	set := map[string]bool{}
	for _, a := range local {
		if !a.IsValid() || a.IsUnspecified() {
			return nil, fmt.Errorf("decap program: local address %q: want a backend's IPv4 or IPv6 address, not an unspecified one", a)
		}
		name, v := decapVarLocal6, any(a.As16())
		if a.Is4() {
			name, v = decapVarLocal4, any(a.As4())
		}
		if set[name] {
			return nil, fmt.Errorf("decap program: local address %v: want at most one IPv4 and one IPv6 address", a)
		}
		if err := spec.Variables[name].Set(v); err != nil {
			return nil, fmt.Errorf("decap program: set %s to %v: %w", name, a, err)
		}
		set[name] = true
	}
	var objs decapObjects
	if err := spec.LoadAndAssign(&objs, nil); err != nil {
		return nil, fmt.Errorf("load decap program: %w", err)
	}
	return &objs, nil
}

// maxTCPBytes bounds Options.TCPBytes.
const maxTCPBytes = 1 << 20

// tcpAnswer is a backend's TCP answer: its name, a newline, and filler up
// to n bytes.
func tcpAnswer(name string, n int) []byte {
	head := name + "\n"
	return []byte(head + strings.Repeat(".", max(0, n-len(head))))
}

// serveAnswers writes answer to every connection l accepts and closes
// it, until l is closed. A write not done in askTimeout (to a client
// that stopped reading, or over a path that lost the answer's segments)
// is given up, as the client gives up by then: without a deadline it
// could block for good, the connections after it waiting and closing l
// not ending the loop.
func serveAnswers(l net.Listener, answer []byte) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		c.SetWriteDeadline(time.Now().Add(askTimeout))
		c.Write(answer)
		c.Close()
	}
}

// readAnswer reads a TCP answer to its end and returns the name in it. An
// answer shorter than n bytes (cut by a path MTU black hole: segments
// too big for the path, whose errors never reached the sender) is an
// error saying how much arrived.
func readAnswer(c net.Conn, n int) (string, error) {
	b, err := io.ReadAll(c)
	name, _, found := strings.Cut(string(b), "\n")
	if err == nil && (!found || len(b) < n) {
		err = fmt.Errorf("answer of %d bytes, want %d", len(b), max(n, len(name)+1))
	}
	if err != nil {
		return "", fmt.Errorf("%w (%d bytes read)", err, len(b))
	}
	return name, nil
}
