#!/usr/bin/perl
# apply.pl FILE FROM TO [NTH]: replace the NTH (default: the only)
# occurrence of the exact line FROM in FILE with TO. Exit 1 if FROM does
# not occur, or occurs more than once and no NTH is given.
use strict;
use warnings;

my ($file, $from, $to, $nth) = @ARGV;
open(my $in, '<', $file) or die "$file: $!\n";
my @lines = <$in>;
close($in);
my @at = grep { $lines[$_] eq "$from\n" } 0 .. $#lines;
if (!@at || (!defined($nth) && @at > 1) || (defined($nth) && $nth > @at)) {
	printf STDERR "%s: the line occurs %d times: %s\n", $file,
		scalar(@at), $from;
	exit 1;
}
$lines[$at[defined($nth) ? $nth - 1 : 0]] = "$to\n";
open(my $out, '>', $file) or die "$file: $!\n";
print $out @lines;
close($out);
