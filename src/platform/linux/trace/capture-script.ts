import { PERL_PROC_READS } from './perl-proc-reads.js';

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
 * It follows only what corral traces: the processes it is told about, what they fork, and
 * processes that exec inside a named cgroup. The rest of the host's events are dropped here,
 * before any /proc read, so a busy host costs little more than the parsing of its datagrams.
 *
 * Arguments: receive buffer (bytes), flush interval (ms), subscription timeout (ms), split (1|0).
 * Output lines (hex for bytes, `-` for nothing):
 *   R single|split            subscribed
 *   N ERRNO WHY               the kernel refused (then it exits)
 *   F TS PPID PTGID CPID CTGID
 *   E TS PID TGID ARGV EXE CWD COMM PIDNS CGROUP   (COMM only when ARGV is missing; PIDNS and
 *                             CGROUP, /proc/PID/ns/pid and /proc/PID/cgroup, only while a C is in
 *                             force or everything passes; else `?`)
 *   X TS PID TGID STATUS PARENT_TGID   (-1: the kernel does not say)
 *   O                         the kernel dropped events (socket buffer full); from then on
 *                             everything passes
 *   D                         everything before was written (the answer to a `D` on stdin)
 * Input lines: T PID (follow it and what it forks), C NAME / c NAME (follow / stop following
 * processes that exec in a cgroup called NAME), A (let everything pass), D (drain). End of
 * input: unsubscribe and exit.
 */
export const CAPTURE_SCRIPT = String.raw`use strict; use warnings;
use Socket qw(SOCK_DGRAM SOL_SOCKET);
use POSIX ();
my $hires = eval { require Time::HiRes; 1 };
sub now { $hires ? Time::HiRes::time() : time() }
my ($AF_NETLINK, $NETLINK_CONNECTOR, $CN_IDX_PROC, $SO_RCVBUF, $SO_RCVBUFFORCE) = (16, 11, 1, 8, 33);
my ($EV_FORK, $EV_EXEC, $EV_EXIT) = (1, 2, 0x80000000);
$0 = 'corral-trace-capture';
# Arguments, read below the test modes: receive buffer, subscription timeout, split, flush interval.
my ($rcvbuf, $ack_ms, $split, $flush_s) = (0, 0, 0, 0.02);
if (($ARGV[0] // '') eq 'parse') { # for the unit tests: the parser alone, on hex datagrams
  shift @ARGV;
  for my $hex (@ARGV) { print join(' ', @$_), "\n" for parse(pack('H*', $hex)); print "--\n" }
  exit 0;
}
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

${PERL_PROC_READS}

# Who is followed: the traced sandboxes' processes (T), everything forked from them, and
# processes that exec inside a cgroup named by C (corral exec joins a container from outside).
# Everything else on the host is dropped here, before its argv is read or a byte reaches corral.
# After the kernel dropped events the tree may have holes: then everything passes (A, or on its
# own at an overflow) and corral decides from /proc.
my (%keep, %cgroups); my $pass_all = 0;
sub places { $pass_all || %cgroups }
sub in_cgroups {
  my ($cg) = @_;
  return 0 unless defined $cg;
  for my $line (split /\n/, $cg) {
    my (undef, undef, $path) = split /:/, $line, 3;
    next unless defined $path;
    for my $part (split m{/}, $path) { return 1 if $cgroups{$part} }
  }
  return 0;
}
# Whether an exec's process is followed; a joiner is recognised (and followed) by its cgroup.
# Returns the cgroup text read on the way, if any, so it is not read twice.
sub follows {
  my ($t) = @_;
  return (1) if $pass_all || $keep{$t};
  return (0) unless %cgroups;
  my $cg = raw_of("/proc/$t/cgroup");
  return (0) unless in_cgroups($cg);
  $keep{$t} = 1;
  return (1, $cg);
}

# What the process runs, read at once: argv first, it is gone when the process exits.
sub exec_info {
  my ($t, $cg) = @_;
  my $argv = hex_of(raw_of("/proc/$t/cmdline"));
  # A zombie's cmdline is empty: then only the kernel's 15-character name is left.
  join ' ', $argv, hex_of(link_raw("/proc/$t/exe")), hex_of(link_raw("/proc/$t/cwd")),
    $argv eq '-' ? hex_of(raw_of("/proc/$t/comm")) : '-',
    places() ? (hex_of(link_raw("/proc/$t/ns/pid")), hex_of($cg // raw_of("/proc/$t/cgroup"))) : ('?', '?');
}

# Execs seen on the exec-only socket: their /proc reads (%early) and the ones the ordered stream
# has not reached yet (%behind). %ahead: execs the ordered stream gave first (read at a timer
# wake-up), whose exec-socket copy is still to come and is then only dropped: without it, that
# copy would be read from /proc again and wait in %behind forever, and every later wake-up would
# read the ordered stream to its end.
my $out = ''; my $due; my %early; my %behind; my %ahead; my $split_mode = 0;
sub emit { $out .= $_[0]; $due //= now() + $flush_s }
sub flush_out { syswrite(STDOUT, $out) if length $out; $out = ''; undef $due }

# The events of one datagram from the ordered stream, followed or dropped.
# A followed process's threads besides its main one (%threads), and processes whose main thread
# has ended while others run on (%orphaned): such a process is still followed, until its last
# thread ends or it execs (which ends every other thread, the main one too).
my (%threads, %orphaned);
sub route {
  for my $ev (parse($_[0])) {
    my ($k, $ts, @f) = @$ev;
    if ($k eq 'F') { # parent pid, parent tgid, child pid, child tgid
      # A new thread's parent is its process's parent (the kernel gives threads that one): it
      # belongs to the process it is a thread of.
      my $thread = $f[2] != $f[3];
      next unless $pass_all || $keep{$thread ? $f[3] : $f[1]};
      if ($thread) { $threads{$f[3]}++ } else { $keep{$f[3]} = 1 }
      emit("F $ts @f\n");
    } elsif ($k eq 'E') { # pid, tgid
      delete $threads{$f[1]}; delete $orphaned{$f[1]};
      my $key = "$f[1] $ts";
      $ahead{$key} = 1 if $split_mode && !delete $behind{$key};
      my $info = delete $early{$key};
      if (!defined $info) {
        my ($yes, $cg) = follows($f[1]);
        next unless $yes;
        $info = exec_info($f[1], $cg);
      }
      emit("E $ts @f $info\n");
    } elsif ($k eq 'X') { # pid, tgid, status, signal, parent tgid
      next unless $pass_all || $keep{$f[1]};
      if ($f[0] != $f[1]) { # a thread
        $threads{$f[1]}-- if $threads{$f[1]};
        if ($orphaned{$f[1]} && !$threads{$f[1]}) { delete $keep{$f[1]}; delete $orphaned{$f[1]} }
      } elsif ($threads{$f[1]}) { $orphaned{$f[1]} = 1 }
      else { delete $keep{$f[1]}; delete $threads{$f[1]} }
      emit("X $ts @f\n");
    }
  }
}

# Commands: one per line. Each D is answered after the events read with it, the rest at once.
my $drain = 0;
sub command {
  my ($c) = @_;
  if ($c =~ /^T (\d+)$/) { $keep{$1} = 1 }
  elsif ($c =~ /^C (\S+)$/) { $cgroups{$1} = 1 }
  elsif ($c =~ /^c (\S+)$/) { delete $cgroups{$1} }
  elsif ($c eq 'A') { $pass_all = 1 }
  elsif ($c eq 'D') { $drain++ } # each one answered: corral waits for every D it sent
}

if (($ARGV[0] // '') eq 'replay') { # for the unit tests: commands, fake /proc files and datagrams in order
  shift @ARGV; $split_mode = 1;
  for my $a (@ARGV) {
    if ($a =~ /^cmd:(.*)$/s) { command($1) }
    elsif ($a =~ /^file:([^=]+)=([0-9a-f]*)$/) { $fake{$1} = pack('H*', $2) }
    elsif ($a =~ /^fast:([0-9a-f]*)$/) { exec_arrived(pack('H*', $1)) }
    elsif ($a eq 'pending') { emit(join(' ', 'P', scalar(keys %early), scalar(keys %behind), scalar(keys %ahead)) . "\n") }
    else { route(pack('H*', $a)) }
  }
  print $out; exit 0;
}

my $flush_ms;
($rcvbuf, $flush_ms, $ack_ms, $split) = @ARGV;
$flush_s = $flush_ms / 1000;
my ($all, $err, $why) = subscribe(undef);
if (!$all) { print "N $err $why\n"; exit 1 }
my $execs;
($execs) = subscribe($EV_EXEC, $all) if $split;
$split_mode = $execs ? 1 : 0;
print 'R ', ($execs ? 'split' : 'single'), "\n"; STDOUT->flush;

# An exec from the exec-only socket (one datagram: the socket said it is readable), read the
# moment it arrives and matched to the ordered stream later. One whose fork is still queued
# there is not known yet: the ordered stream, read right after, reads it then.
sub read_exec {
  my $buf;
  exec_arrived($buf) if defined recv($execs, $buf, 65536, 64);
}
sub exec_arrived {
  for my $ev (parse($_[0])) {
    next unless $ev->[0] eq 'E';
    my $key = "$ev->[3] $ev->[1]";
    next if delete $ahead{$key};
    $behind{$key} = 1;
    my ($yes, $cg) = follows($ev->[3]);
    $early{$key} = exec_info($ev->[3], $cg) if $yes;
  }
}

# Reads the ordered stream: all of it, or (woken by an exec) until that exec, which saves the
# system call that would only say 'nothing more' (the rest is read at the next wake).
sub read_all {
  my ($full) = @_;
  while ($full || %behind) {
    my $ok = recv($all, my $buf, 65536, 64);
    if (!defined $ok) {
      last unless $!{ENOBUFS};
      emit("O\n"); $pass_all = 1; next;
    }
    route($buf);
  }
  # Execs the ordered stream lost (it overflowed): forget them.
  if (keys %early > 4096 || keys %behind > 4096 || keys %ahead > 4096) { %early = (); %behind = (); %ahead = () }
}

$SIG{PIPE} = 'IGNORE';
my $rin = ''; vec($rin, fileno(STDIN), 1) = 1; vec($rin, fileno($execs // $all), 1) = 1;
my $wake = $execs ? $flush_s : undef; # the ordered stream is not watched: read it at least this often
my $in = '';
while (1) {
  my $t = $wake; my $left = defined $due ? $due - now() : undef;
  $t = $left if defined $left && (!defined $t || $left < $t); $t = 0 if defined $t && $t < 0;
  my $n = select(my $r = $rin, undef, undef, $t);
  # Commands first: a sandbox's first fork may already wait in the socket behind its T.
  if ($n > 0 && vec($r, fileno(STDIN), 1)) {
    my $got = sysread(STDIN, my $chunk, 65536);
    if (!$got) { control($all, 2); control($execs, 2) if $execs; flush_out(); exit 0 }
    $in .= $chunk;
    command($1) while $in =~ s/^([^\n]*)\n//;
  }
  my $woken = $execs && $n > 0 && vec($r, fileno($execs), 1);
  read_exec() if $woken;
  read_all(!$woken || $drain || $n > 1);
  if ($drain) { emit("D\n") while $drain-- > 0; flush_out(); $drain = 0 }
  flush_out() if defined $due && now() >= $due || length $out > 65536;
}
`;
