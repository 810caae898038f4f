import { PERL_PROC_READS } from '../perl-proc-reads.js';
import { Exec, ExecFlag, Kind, MapIndex, ConfigFlag, Stat } from './record-format.js';

/**
 * The eBPF capture, a small perl program (perl-base is on every Debian and Ubuntu system; Node
 * cannot make the bpf() system call). corral generates the programs for the running kernel
 * (probe-programs.ts) and hands them over as arguments; this loads them, attaches them to the
 * sched_process_fork/exec/exit tracepoints, and every flush interval turns what they wrote into
 * its ring buffer into the same lines the proc connector capture writes (capture-script.ts next
 * door explains them), so everything after it is shared. Nothing wakes it per event: the
 * programs copy argv, exe and cwd in the kernel while the exec happens.
 *
 * Arguments: SYS_bpf SYS_mmap SYS_prlimit64 FLUSH_MS, six maps `type:key:value:max:flags:name`
 * in MapIndex order, then three programs `tracepoint:name:hex`.
 * Output: `R bpf` once attached, or `N ERRNO WHY` and exit; then F, E, X, O and D lines as the
 * proc connector capture's, with two additions: an F line ends in the forking process's tgid,
 * and an E line may end in a field `t` (argv was longer than the kernel copy and could not be
 * completed from /proc, so it holds the first part only).
 * Input: `T PID`, `C NAME HIERARCHY:ID...` (a cgroup's kernfs ids), `c NAME`, `A`, `D`; end of
 * input: detach and exit (closing the descriptors detaches and frees everything, even on SIGKILL).
 */
export const BPF_CAPTURE_SCRIPT = String.raw`use strict; use warnings;
use POSIX ();
$0 = 'corral-trace-capture';
my ($K_FORK, $K_EXEC, $K_EXIT) = (${Kind.fork}, ${Kind.exec}, ${Kind.exit});
my %F = (argv_cut => ${ExecFlag.argvCut}, exe_cut => ${ExecFlag.exeCut}, cwd_cut => ${ExecFlag.cwdCut},
  exe_del => ${ExecFlag.exeDeleted}, cwd_del => ${ExecFlag.cwdDeleted});
my ($M_EVENTS, $M_FOLLOWED, $M_CGROUPS, $M_CONFIG, $M_STATS) =
  (${MapIndex.events}, ${MapIndex.followed}, ${MapIndex.cgroups}, ${MapIndex.config}, ${MapIndex.stats});
my ($C_ALL, $C_CGROUPS) = (${ConfigFlag.recordAll}, ${ConfigFlag.cgroups});
my ($S_RING, $S_FOLLOW) = (${Stat.ringFull}, ${Stat.followFull});
my $HDR = ${Exec.header};

# /proc reads, for the rare record the kernel could not complete.
${PERL_PROC_READS}

# Components leaf first, each NUL-terminated, to a path; undef where the walk was cut short and
# /proc no longer shows a path that ends the same way.
sub path_of {
  my ($bytes, $cut, $deleted, $proc) = @_;
  my @c = grep { length } split /\0/, $bytes;
  my $p = '/' . join('/', reverse @c);
  $p .= ' (deleted)' if $deleted;
  return $p unless $cut;
  my $late = link_raw($proc);
  my $tail = @c ? '/' . join('/', reverse @c) : '';
  return defined $late && substr($late, -length($tail)) eq $tail && length $tail ? $late : undef;
}

my %cg_name; # cgroup tag -> the name corral follows it by
sub line_of {
  my ($r) = @_;
  return undef if length $r < 32;
  my ($kind, $flags, $ts) = unpack('L L Q<', $r);
  # A fork says who forked too (the word after the kind): with CLONE_PARENT, not the parent.
  if ($kind == $K_FORK) { return join(' ', 'F', $ts, unpack('x16 L L L L', $r), $flags) . "\n" }
  if ($kind == $K_EXIT) { return join(' ', 'X', $ts, unpack('x16 L L L L', $r)) . "\n" }
  return undef unless $kind == $K_EXEC && length $r >= $HDR;
  my ($pid, $tgid, $ns, $tag, $total, $copied, $exe_n, $cwd_n, $comm) =
    unpack('x${Exec.pid} L L L L Q< L S S Z16', $r);
  return undef if $HDR + $exe_n + $cwd_n + $copied > length $r;
  my $exe = path_of(substr($r, $HDR, $exe_n), $flags & $F{exe_cut}, $flags & $F{exe_del}, "/proc/$tgid/exe");
  my $cwd = path_of(substr($r, $HDR + $exe_n, $cwd_n), $flags & $F{cwd_cut}, $flags & $F{cwd_del}, "/proc/$tgid/cwd");
  my $argv = substr($r, $HDR + $exe_n + $cwd_n, $copied);
  my $short = '';
  if ($flags & $F{argv_cut}) {
    # Longer than the kernel copy: /proc has the rest while the process runs this program.
    my $full = raw_of("/proc/$tgid/cmdline");
    if (defined $full && length $full == $total && substr($full, 0, $copied) eq $argv) { $argv = $full }
    else { $short = ' t' }
  }
  my $cg = $tag && defined $cg_name{$tag} ? "0::/$cg_name{$tag}\n" : undef;
  return join(' ', 'E', $ts, $pid, $tgid, hex_of($argv), hex_of($exe), hex_of($cwd), hex_of($comm),
    hex_of("pid:[$ns]"), defined $cg ? hex_of($cg) : '?') . "$short\n";
}

my $out = '';
sub emit { $out .= $_[0] }
sub flush_out { syswrite(STDOUT, $out) if length $out; $out = '' }

my ($live, $sys_bpf, @fd) = (0, 0);
sub bpf { my $attr = $_[1]; my $r = syscall($sys_bpf, $_[0], $attr, length $attr); ($r, 0 + $!) }
sub ptr { unpack('Q', pack('p', $_[0])) }
# Returns true when the map holds the key afterwards. With $only_new (BPF_NOEXIST) an entry
# already there is kept as it is.
sub map_update {
  my ($m, $key, $value, $only_new) = @_;
  return 1 unless $live;
  my ($r, $e) = bpf(2, pack('L x4 Q Q Q', $fd[$m], ptr($key), ptr($value), $only_new ? 1 : 0));
  return $r == 0 || ($only_new && $e == 17);
}
sub map_delete { my ($m, $key) = @_; return unless $live; bpf(3, pack('L x4 Q Q Q', $fd[$m], ptr($key), 0, 0)) }
sub stat_of {
  my ($i) = @_;
  my $key = pack('L', $i); my $v = "\0" x 8;
  my ($r) = bpf(1, pack('L x4 Q Q Q', $fd[$M_STATS], ptr($key), ptr($v), 0));
  return $r == 0 ? unpack('Q', $v) : 0;
}

my ($config, $tags, %cg_keys, %cg_tag) = (0, 0);
sub set_config { $config = $_[0]; map_update($M_CONFIG, pack('L', 0), pack('Q', $config)) }
# Processes and cgroups the maps refused (full): what corral is told of as lost events.
my $refused = 0;
# Drains asked for and not answered yet: each gets its own D, in order.
my $drain = 0;
# Whether a process has ended. A zombie has, unless only its main thread is one (pthread_exit)
# while other threads run on: /proc shows the main thread's state.
sub gone {
  my ($pid) = @_; # a copy: the caller's \$1 would change with the matches below
  my $stat = raw_of("/proc/$pid/stat") // return 1;
  my ($state) = $stat =~ /\) (\S)/;
  return 1 if !defined $state || $state eq 'X';
  return 0 if $state ne 'Z';
  my ($threads) = (raw_of("/proc/$pid/status") // '') =~ /^Threads:\s*(\d+)/m;
  return !$threads || $threads <= 1;
}
sub command {
  my ($c) = @_;
  if ($c =~ /^T (\d+)$/) {
    my $key = pack('L', $1);
    # An entry that is there already (a joiner, with its cgroup's tag) stays as it is.
    $refused++ unless map_update($M_FOLLOWED, $key, pack('L', 0), 1);
    # Gone already: an entry nothing would remove, which a reused pid would inherit.
    map_delete($M_FOLLOWED, $key) if $live && gone($1);
  } elsif ($c =~ /^C (\S+)((?: \d+:\d+)*)$/) {
    my ($name, @keys) = ($1, split ' ', $2);
    return if $cg_keys{$name};
    # A tag outlives its cgroup's following: records already in the ring still name it.
    my $tag = ++$tags; $cg_name{$tag} = $name; $cg_tag{$name} = $tag; $cg_keys{$name} = [];
    for my $k (@keys) {
      my ($h, $id) = split /:/, $k;
      my $key = pack('Q L L', $id, $h, 0);
      if (map_update($M_CGROUPS, $key, pack('L', $tag))) { push @{$cg_keys{$name}}, $key } else { $refused++ }
    }
    set_config($config | $C_CGROUPS);
  } elsif ($c =~ /^c (\S+)$/) {
    my $keys = delete $cg_keys{$1} or return;
    map_delete($M_CGROUPS, $_) for @$keys;
    set_config($config & ~$C_CGROUPS) unless %cg_keys;
  } elsif ($c eq 'A') {
    # A full ring loses records, not followed processes: the kernel's tree only has holes when
    # a map refused a process, and only then must everything pass for corral to sort it out.
    set_config($config | $C_ALL) if !$live || $refused || stat_of($S_FOLLOW) > 0;
  } elsif ($c eq 'D') { $drain++ }
}
sub answer_drains { emit("D\n") while $drain-- > 0; $drain = 0 }

if (($ARGV[0] // '') eq 'replay') { # for the unit tests: commands, fake /proc files and records in order
  shift @ARGV;
  for my $a (@ARGV) {
    if ($a =~ /^cmd:(.*)$/s) { command($1) }
    elsif ($a =~ /^file:([^=]+)=([0-9a-f]*)$/) { $fake{$1} = pack('H*', $2) }
    elsif ($a =~ /^rec:([0-9a-f]*)$/) { my $l = line_of(pack('H*', $1)); emit($l // "?\n") }
    elsif ($a eq 'answer') { answer_drains() }
    elsif ($a eq 'state') { emit(join(' ', 'S', $config, map { "$_=$cg_tag{$_}" } sort keys %cg_keys) . "\n") }
  }
  print $out; exit 0;
}

my ($flush_ms, @spec);
($sys_bpf, my $sys_mmap, my $sys_prlimit, $flush_ms, @spec) = @ARGV;
$sys_bpf += 0; $sys_mmap += 0;
sub refuse { print "N $_[0] $_[1]\n"; exit 1 }
# Before Linux 5.11 maps and programs count against RLIMIT_MEMLOCK (64 KiB by default), and the
# kernel says EPERM, even to root, when they do not fit: lift it (prlimit64, RLIMIT_MEMLOCK).
my $unlimited = pack('Q Q', ~0, ~0); # a variable: syscall() may write to what it is given
syscall($sys_prlimit + 0, 0, 8, $unlimited, 0) if $sys_prlimit;
my @maps = @spec[0 .. 5]; my @progs = @spec[6 .. $#spec];
my $ring_bytes;
for my $m (@maps) {
  my ($type, $ks, $vs, $max, $flags, $name) = split /:/, $m;
  $ring_bytes = $max if @fd == $M_EVENTS;
  my ($r, $e) = bpf(0, pack('L L L L L L L a16', $type, $ks, $vs, $max, $flags, 0, 0, $name) . ("\0" x 56));
  refuse($e, "map $name: $!") if $r < 0;
  push @fd, $r;
}
my $lic = "Dual MIT/GPL\0";
my @links;
for my $p (@progs) {
  my ($tp, $name, $hex) = split /:/, $p;
  my $insns = pack('H*', $hex);
  # ld_imm64 of a map (opcode 0x18, src 1) names it by index: the kernel wants its descriptor.
  for (my $i = 0; $i + 16 <= length $insns; $i += 8) {
    my ($op, $regs, $imm) = unpack("x$i C C x2 l", $insns);
    next unless $op == 0x18;
    substr($insns, $i + 4, 4) = pack('l', $fd[$imm]) if ($regs >> 4) == 1;
    $i += 8;
  }
  my $load = sub {
    my ($level, $log) = @_;
    bpf(5, pack('L L Q Q L L Q L L a16 L L', 17, length($insns) / 8, ptr($insns), ptr($lic), $level,
      length $log, $level ? ptr($log) : 0, 0, 0, $name, 0, 0) . ("\0" x 72));
  };
  my ($pfd, $e) = $load->(0, '');
  if ($pfd < 0) {
    # Again with the verifier's log, for the reason (its last lines say why). Its size is in a
    # variable: perl folds a constant repetition at compile time, 4 MiB held for good.
    my $size = 4 << 20;
    my $log = "\0" x $size;
    ($pfd, $e) = $load->(1, $log);
    $log =~ s/\0.*//s;
    my @l = grep { length } split /\n/, $log;
    refuse($e, "loading $name: " . ($! . (@l ? ': ' . join(' | ', @l[($#l > 2 ? $#l - 2 : 0) .. $#l]) : '')));
  }
  my $tpname = "$tp\0";
  my ($lfd, $le) = bpf(17, pack('Q L L', ptr($tpname), $pfd, 0) . ("\0" x 16));
  refuse($le, "attaching $name to $tp: $!") if $lfd < 0;
  push @links, $lfd, $pfd;
}
$live = 1;
my $page = POSIX::sysconf(POSIX::_SC_PAGESIZE()) || 4096;
my $cons_at = syscall($sys_mmap, 0, $page, 3, 1, $fd[$M_EVENTS], 0);
my $prod_at = syscall($sys_mmap, 0, $page + 2 * $ring_bytes, 1, 1, $fd[$M_EVENTS], $page);
refuse(0 + $!, "mmap of the ring buffer: $!") if $cons_at == -1 || $prod_at == -1;
open(my $mem, '+<', '/proc/self/mem') or refuse(0 + $!, "/proc/self/mem: $!");
binmode $mem;
my $data_at = $prod_at + $page; my $mask = $ring_bytes - 1;
sub peek { unpack("P$_[1]", pack('Q', $_[0])) }
my $cpos = unpack('Q', peek($cons_at, 8));
# The consumer position is written through /proc/self/mem (perl cannot store to an address):
# tried once here, so a kernel that forbids it is a refusal, not a ring that silently fills.
sub consumed { sysseek($mem, $cons_at, 0) && (syswrite($mem, pack('Q', $cpos)) // 0) == 8 }
consumed() or refuse(0 + $!, "writing the ring buffer's consumer position through /proc/self/mem: $!");
print "R bpf\n"; STDOUT->flush;

# Turns what the ring holds into lines. A record still being written (busy) ends the read; with
# 'wait' (a drain) it is waited for, as it is done within microseconds.
sub read_ring {
  my ($wait) = @_;
  my $moved = 0;
  for (my $spins = 0; ; ) {
    my $ppos = unpack('Q', peek($prod_at, 8));
    last if $cpos >= $ppos;
    my ($len) = unpack('L', peek($data_at + ($cpos & $mask), 4));
    if ($len & 0x80000000) {
      last unless $wait && ++$spins < 1000;
      select(undef, undef, undef, 0.0005); next;
    }
    my $n = $len & 0x3fffffff;
    if (!($len & 0x40000000)) { my $l = line_of(peek($data_at + (($cpos + 8) & $mask), $n)); emit($l) if defined $l }
    $cpos += ($n + 8 + 7) & ~7;
    $moved = 1;
  }
  consumed() if $moved;
}

my ($ring_lost, $follow_lost, $refused_seen) = (0, 0, 0);
sub check_lost {
  my ($r, $f) = (stat_of($S_RING), stat_of($S_FOLLOW));
  emit("O\n") if $r > $ring_lost || $f > $follow_lost || $refused > $refused_seen;
  ($ring_lost, $follow_lost, $refused_seen) = ($r, $f, $refused);
}

$SIG{PIPE} = 'IGNORE';
my $flush_s = $flush_ms / 1000;
my $rin = ''; vec($rin, fileno(STDIN), 1) = 1;
my $in = '';
# Without Time::HiRes (perl-base lacks it), select's own account of the time left keeps the beat.
my $left = 0;
while (1) {
  my ($n, $rest) = select(my $r = $rin, undef, undef, $left);
  $left = $rest // 0;
  if ($n > 0) {
    my $got = sysread(STDIN, my $chunk, 65536);
    if (!$got) { read_ring(1); check_lost(); flush_out(); exit 0 }
    $in .= $chunk;
    command($1) while $in =~ s/^([^\n]*)\n//;
  }
  next unless $drain || $n == 0 || $left <= 0;
  read_ring($drain); check_lost(); answer_drains();
  flush_out();
  $left = $flush_s if $n == 0 || $left <= 0;
}
`;
