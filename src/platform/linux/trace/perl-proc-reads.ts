/**
 * The /proc reads both captures make (capture-script.ts, ebpf/capture-script.ts), as perl to put
 * in their programs: raw_of (a file's bytes), link_raw (a symlink's target), hex_of (bytes as the
 * captures write them, `-` for none). Their replay modes, for the unit tests, fill %fake with a
 * fake host's files, and then only it is read.
 */
export const PERL_PROC_READS = String.raw`# /proc reads; the unit tests' replay mode answers them from its fake host instead. Plain
# open/read/close: perl's own I/O layer adds three system calls per file (isatty, seek, stat),
# and on a VM each costs microseconds the traced burst waits for. /proc's files give all they
# have in one read when the buffer is larger.
my %fake;
sub raw_of {
  my ($p) = @_;
  return $fake{$p} if %fake;
  my $fd = POSIX::open($p, 0) // return undef;
  my ($d, $chunk) = ('', '');
  while (1) {
    my $n = POSIX::read($fd, $chunk, 65536);
    if (!defined $n) { POSIX::close($fd); return undef }
    $d .= $chunk;
    last if $n < 65536;
  }
  POSIX::close($fd);
  return $d;
}
sub link_raw { %fake ? $fake{$_[0]} : readlink($_[0]) }
sub hex_of { my ($d) = @_; defined $d && length $d ? unpack('H*', $d) : '-' }`;
