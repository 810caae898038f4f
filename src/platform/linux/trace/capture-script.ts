/**
 * The proc connector's capture, a small perl program (perl-base is part of every Debian and
 * Ubuntu system). It owns the netlink sockets and reads each exec's argv from /proc the moment
 * the event arrives: a short-lived process may be gone a millisecond later. It runs at
 * real-time priority, and every wake-up it costs is charged to the sandbox's burst of execs;
 * measured on a 2-core VM, a Node.js process doing the same work (even with nothing to do but
 * receive) took about 60 µs per event and slowed a burst of 1000 execs by 15-23%, perl about a
 * sixth of that. See connector-capture.ts for how it is driven.
 *
 * Wire format (linux/connector.h, linux/cn_proc.h), little-endian as on every architecture
 * corral supports:
 *   nlmsghdr   len u32 | type u16 | flags u16 | seq u32 | pid u32                 16 bytes
 *   cn_msg     idx u32 | val u32 | seq u32 | ack u32 | len u16 | flags u16       20 bytes
 *   proc_event what u32 | cpu u32 | timestamp_ns u64 | event_data              16 + n bytes
 *     fork: parent_pid, parent_tgid, child_pid, child_tgid                       (16)
 *     exec: process_pid, process_tgid                                            (8)
 *     exit: process_pid, process_tgid, exit_code, exit_signal[, parent_pid, parent_tgid]
 *     none (the answer to a subscription): err                                   (4)
 *
 * Since Linux 6.6 a subscription may name the kinds of event it wants. The capture then holds
 * two sockets: one for execs only, the only kind that must be read at once, which it waits on;
 * and one for everything, in order, which it reads when an exec wakes it and at least every
 * flush interval. On older kernels (no answer to the filtered subscription) it waits on the one
 * socket that has everything.
 *
 * Arguments: receive buffer (bytes), flush interval (ms), subscription timeout (ms), split (1|0).
 * Output lines (hex for bytes, `-` for nothing):
 *   R single|split            subscribed
 *   N ERRNO WHY               the kernel refused (then it exits)
 *   F TS PPID PTGID CPID CTGID
 *   E TS PID TGID ARGV EXE CWD COMM PIDNS CGROUP   (COMM only when ARGV is missing; PIDNS and
 *                             CGROUP, /proc/PID/ns/pid and /proc/PID/cgroup, only after a W: `?`)
 *   X TS PID TGID STATUS PARENT_TGID   (-1: the kernel does not say)
 *   O                         the kernel dropped events (socket buffer full)
 *   D                         everything before was written (the answer to a `D` on stdin)
 * Input lines: D (drain), W / w (start / stop reading PIDNS and CGROUP). End of input:
 * unsubscribe and exit.
 */
export const CAPTURE_SCRIPT = String.raw`use strict; use warnings;
use Socket qw(SOCK_DGRAM SOL_SOCKET);
my $hires = eval { require Time::HiRes; 1 };
sub now { $hires ? Time::HiRes::time() : time() }
my ($AF_NETLINK, $NETLINK_CONNECTOR, $CN_IDX_PROC, $SO_RCVBUF, $SO_RCVBUFFORCE) = (16, 11, 1, 8, 33);
my ($EV_FORK, $EV_EXEC, $EV_EXIT) = (1, 2, 0x80000000);
$0 = 'corral-trace-capture';
if (($ARGV[0] // '') eq 'parse') { # for the unit tests: the parser alone, on hex datagrams
  shift @ARGV;
  for my $hex (@ARGV) { print join(' ', @$_), "\n" for parse(pack('H*', $hex)); print "--\n" }
  exit 0;
}
my ($rcvbuf, $flush_ms, $ack_ms, $split) = @ARGV;
my $flush_s = $flush_ms / 1000;
my $where = 0; # read each exec's pid namespace and cgroup too (W on stdin; w: stop)
my $KERNEL = pack('S x2 L L', $AF_NETLINK, 0, 0);
$| = 0;
my $seq = int(rand(0x3fffffff));

sub control {
  my ($sock, $op, $events) = @_;
  my $data = defined $events ? pack('L L', $op, $events) : pack('L', $op);
  my $cn = pack('L L L L S S', $CN_IDX_PROC, 1, 0, ++$seq, length($data), 0) . $data;
  send($sock, pack('L S S L L', 16 + length($cn), 3, 0, 0, 0) . $cn, 0, $KERNEL);
  return $seq;
}

# Opens a socket in the process-events group and subscribes; returns it once the kernel acked.
# The ack is an event of kind NONE, sent to every listener; a socket that asked for some kinds
# only does not get it, so its answer is awaited on the socket that gets everything.
sub subscribe {
  my ($events, $acks) = @_;
  socket(my $s, $AF_NETLINK, SOCK_DGRAM, $NETLINK_CONNECTOR) or return (undef, 0 + $!, "socket: $!");
  setsockopt($s, SOL_SOCKET, $SO_RCVBUFFORCE, pack('i', $rcvbuf))
    or setsockopt($s, SOL_SOCKET, $SO_RCVBUF, pack('i', $rcvbuf));
  bind($s, pack('S x2 L L', $AF_NETLINK, 0, $CN_IDX_PROC)) or return (undef, 0 + $!, "bind: $!");
  my $ack = control($s, 1, $events) or return (undef, 0 + $!, "send: $!");
  my $until = now() + $ack_ms / 1000;
  $acks //= $s;
  my $rin = ''; vec($rin, fileno($acks), 1) = 1;
  while ((my $left = $until - now()) > 0) {
    next unless select(my $r = $rin, undef, undef, $left) > 0;
    while (defined recv($acks, my $buf, 65536, 64)) {
      for my $ev (parse($buf)) {
        return ($ev->[3] == 0 ? $s : undef, $ev->[3], 'refused') if $ev->[0] eq 'A' && $ev->[2] == $ack + 1;
      }
    }
  }
  return (undef, 110, 'no answer from the kernel');
}

# [kind, ts, fields...] for each proc event in a datagram; acks as [A, 0, ack, err].
sub parse {
  my ($buf) = @_;
  my @out; my $off = 0; my $len = length $buf;
  while ($off + 16 <= $len) {
    my ($nllen, $type) = unpack("x$off L S", $buf);
    last if $nllen < 16 || $off + $nllen > $len;
    if ($type != 1 && $type != 2 && $type != 4 && $nllen >= 16 + 20 + 16) {
      my ($idx, $val, $ack, $cnlen) = unpack('x' . ($off + 16) . ' L L x4 L S', $buf);
      my ($what, $ts) = unpack('x' . ($off + 36) . ' L x4 Q<', $buf);
      # The payload's own length, which must fit in the message: never read past either.
      my $d = $off + 52; my $room = $cnlen - 16;
      if ($idx == $CN_IDX_PROC && $val == 1 && $cnlen <= $nllen - 36 && $room >= 4) {
        if ($what == 0 && $room >= 4) { push @out, ['A', 0, $ack, unpack("x$d L", $buf)] }
        elsif ($what == $EV_FORK && $room >= 16) { push @out, ['F', $ts, unpack("x$d L L L L", $buf)] }
        elsif ($what == $EV_EXEC && $room >= 8) { push @out, ['E', $ts, unpack("x$d L L", $buf)] }
        elsif ($what == $EV_EXIT && $room >= 16) {
          my @x = unpack("x$d L L L", $buf);
          push @out, ['X', $ts, @x, $room >= 24 ? unpack('x' . ($d + 20) . ' L', $buf) : -1];
        }
      }
    }
    $off += ($nllen + 3) & ~3;
  }
  return @out;
}

sub slurp { my ($p) = @_; open(my $f, '<:raw', $p) or return '-'; local $/; my $d = <$f>; return defined $d && length $d ? unpack('H*', $d) : '-' }
sub link_of { my $l = readlink($_[0]); defined $l ? unpack('H*', $l) : '-' }
# What the process runs, read at once: argv first, it is gone when the process exits.
sub exec_info {
  my ($t) = @_;
  my $argv = slurp("/proc/$t/cmdline");
  # A zombie's cmdline is empty: then only the kernel's 15-character name is left.
  join ' ', $argv, link_of("/proc/$t/exe"), link_of("/proc/$t/cwd"), $argv eq '-' ? slurp("/proc/$t/comm") : '-',
    $where ? (link_of("/proc/$t/ns/pid"), slurp("/proc/$t/cgroup")) : ('?', '?');
}

my ($all, $err, $why) = subscribe(undef);
if (!$all) { print "N $err $why\n"; exit 1 }
my $execs;
($execs) = subscribe($EV_EXEC, $all) if $split;
print 'R ', ($execs ? 'split' : 'single'), "\n"; STDOUT->flush;

my $out = ''; my $due; my %early;
sub emit { $out .= $_[0]; $due //= now() + $flush_s }
sub flush_out { syswrite(STDOUT, $out) if length $out; $out = ''; undef $due }

# Execs from the exec-only socket, read the moment they arrive; matched to the ordered stream later.
sub read_execs {
  return unless $execs;
  while (defined recv($execs, my $buf, 65536, 64)) {
    for my $ev (parse($buf)) { $early{"$ev->[3] $ev->[1]"} = exec_info($ev->[3]) if $ev->[0] eq 'E' }
  }
  $early{overflow} = 1 if $!{ENOBUFS};
}

sub read_all {
  while (1) {
    my $ok = recv($all, my $buf, 65536, 64);
    if (!defined $ok) { if ($!{ENOBUFS}) { emit("O\n"); next } last }
    for my $ev (parse($buf)) {
      my ($k, $ts, @f) = @$ev;
      if ($k eq 'E') {
        my $key = "$f[1] $ts";
        read_execs() if $execs && !exists $early{$key};
        my $info = delete $early{$key} // exec_info($f[1]);
        emit("E $ts @f $info\n");
      } elsif ($k ne 'A') { emit("$k $ts @f\n") }
    }
  }
  %early = () if keys %early > 4096; # execs the ordered stream lost (it overflowed): forget them
}

$SIG{PIPE} = 'IGNORE';
my $rin = ''; vec($rin, fileno(STDIN), 1) = 1; vec($rin, fileno($execs // $all), 1) = 1;
my $wake = $execs ? $flush_s : undef; # the ordered stream is not watched: read it at least this often
while (1) {
  my $t = $wake; my $left = defined $due ? $due - now() : undef;
  $t = $left if defined $left && (!defined $t || $left < $t); $t = 0 if defined $t && $t < 0;
  my $n = select(my $r = $rin, undef, undef, $t);
  read_execs();
  read_all();
  if ($n > 0 && vec($r, fileno(STDIN), 1)) {
    my $got = sysread(STDIN, my $cmd, 64);
    if (!$got) { control($all, 2); control($execs, 2) if $execs; flush_out(); exit 0 }
    $where = 1 if $cmd =~ /W/;
    $where = 0 if $cmd =~ /w/;
    if ($cmd =~ /D/) { emit("D\n"); flush_out() }
  }
  flush_out() if defined $due && now() >= $due || length $out > 65536;
}
`;
