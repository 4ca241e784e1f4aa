# n decimals, zero-padded; "n/a" for a missing figure (report.sh, compare.sh).
def fix(d):
  if . == null then "n/a" else
    (. * pow(10; d) | round) as $v
    | ($v | fabs | tostring) as $s
    | (if ($s | length) <= d then ("0" * (d + 1 - ($s | length))) + $s else $s end) as $p
    | (if $v < 0 then "-" else "" end)
      + (if d > 0 then $p[0:(($p | length) - d)] + "." + $p[(($p | length) - d):] else $p end)
  end;
