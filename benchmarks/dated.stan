// The dated model (docs/model.md, section 5) in Stan: the baseline of benchmarks/bench_stan.py.
//
// The same priors, transforms, observation kinds and likelihoods as
// dnamodel/inference/dated_kernel.py, and the same free parameters in the same order, each on the
// same unconstrained scale (Stan's lower = 0 is the kernel's log, lower = 0, upper = 1 its logit),
// so that the two unconstrained vectors are one and the same: bench_stan.py checks the log
// density and its gradient against the kernel's at the same points before timing anything.
// Every density is added with its constants (target += ..._lpdf), as the kernel's are.
// The data come from bench_stan.stan_data(inputs), inputs = resolve_dated(spec, data).
functions {
  // log Φ(z) as the kernel computes it: erfc down to z = −20, then the asymptotic series. Stan's own
  // std_normal_lcdf has a gradient that differed from the kernel's and from finite differences by
  // up to 3e-5 of its size on this model (bench_stan.py's check), so the bounds use this instead.
  real log_ndtr(real z) {
    if (z > -20) return log(0.5 * erfc(-z / sqrt2()));
    real z2 = square(z);
    return -0.5 * z2 - 0.5 * log(2 * pi()) - log(-z) + log(1 - 1 / z2 + 3 / square(z2) - 15 / (z2 * square(z2)));
  }
  // F_j(t) = 1 − exp(−r_j ε softplus((t − t0_j) / ε)), the campaign's progress in each group
  vector progress(real t, vector start, vector pace, real ramp) {
    return -expm1(-pace .* (ramp * log1p_exp((t - start) / ramp)));
  }
  // F_j(t2) − F_j(t1), without cancellation
  vector gain(real t1, real t2, vector start, vector pace, real ramp) {
    vector[rows(start)] r1 = ramp * log1p_exp((t1 - start) / ramp);
    vector[rows(start)] r2 = ramp * log1p_exp((t2 - start) / ramp);
    return exp(-pace .* r1) .* -expm1(-pace .* (r2 - r1));
  }
  // π_u, each unit's fraction at saturation
  vector fraction_of(real alpha, vector group_effect, real unit_sd, vector unit_z, real contrast, real reported,
                     vector logit_offset, vector reported_unit, vector covariate, array[] int group, int linear) {
    vector[rows(unit_z)] eta = alpha + logit_offset + unit_sd * unit_z + reported * reported_unit;
    if (rows(group_effect) > 0) eta += group_effect[group];
    if (linear) return inv_logit(eta + contrast * covariate);
    return (1 - covariate) .* inv_logit(eta) + covariate .* inv_logit(eta + contrast);
  }
  // t0_j: around an anchor, or before or after it by a lead sampled on the log scale
  vector start_of(vector start_raw, array[] int start_kind, vector start_anchor, vector start_scale) {
    vector[rows(start_raw)] start;
    for (j in 1:rows(start_raw)) {
      if (start_kind[j] == 0) start[j] = start_anchor[j] + start_scale[j] * start_raw[j];
      else if (start_kind[j] == 1) start[j] = start_anchor[j] - exp(start_raw[j]);
      else start[j] = start_anchor[j] + exp(start_raw[j]);
    }
    return start;
  }
  // N_u, each unit's population: the census's, its error, and an uplift group's uplift
  vector people_of(vector population, real census_error, vector census_z, array[] int uplift, vector log_uplift) {
    vector[rows(population)] people = population;
    if (rows(census_z) > 0) people = people .* exp(census_error * census_z);
    for (u in 1:rows(population)) if (uplift[u] > 0) people[u] *= exp(log_uplift[uplift[u]]);
    return people;
  }
}
data {
  int<lower=1> U;                          // units
  int<lower=1> J;                          // groups
  int<lower=0> K;                          // observations
  int<lower=0> D;                          // databases
  int<lower=0> L;                          // uplift groups
  int<lower=0, upper=1> linear;            // 1: the linear form, 0: the composition form
  real<lower=0> census_error;
  real<lower=0> ramp;
  real estimand_date;
  vector<lower=0>[U] population;           // census population
  vector[U] covariate;
  array[U] int<lower=1, upper=J> group;
  array[U] int<lower=0, upper=L> uplift;   // 0: none
  vector[U] logit_offset;
  vector[U] reported_unit;
  array[J] int<lower=0, upper=2> start_kind;  // around, before, after
  vector[J] start_anchor;
  vector<lower=0>[J] start_scale;
  vector[J] pace_mu;
  vector<lower=0>[J] pace_sd;
  vector[L] uplift_mu;
  vector<lower=0>[L] uplift_sd;
  // priors
  real alpha_mu;
  real<lower=0> alpha_sd;
  real contrast_mu;
  real<lower=0> contrast_sd;
  int<lower=0, upper=1> has_group;
  int<lower=0, upper=2> group_sd_kind;     // HalfNormal(a), Gamma(a, b), LogNormal(a, b)
  real group_sd_a;
  real group_sd_b;
  int<lower=0, upper=2> unit_sd_kind;
  real unit_sd_a;
  real unit_sd_b;
  int<lower=0, upper=1> has_database;
  real<lower=0> typed_share_a;
  real<lower=0> typed_share_b;
  real baseline_mu;
  real<lower=0> baseline_sd;
  int<lower=0, upper=1> has_reported;
  real reported_mu;
  real<lower=0> reported_sd;
  // observations
  array[K] int<lower=0, upper=3> kind;     // count, database, database share, coverage
  array[K] int<lower=0, upper=2> censor;   // point, lower bound, upper bound
  array[K] int<lower=0, upper=1> active;
  vector<lower=0>[K] y;
  vector<lower=0>[K] error;
  array[K] int<lower=0, upper=1> increment;
  vector[K] since;
  vector[K] date;
  array[K] int<lower=0, upper=D> database;  // 1-based; 0 for none
  vector<lower=0>[K] base;                 // a stated population, or 0
  array[K + 1] int<lower=1> member_start;  // members of observation k: members[member_start[k]:member_start[k + 1] - 1]
  int<lower=0> M;
  array[M] int<lower=1, upper=U> members;
  array[K] int<lower=0, upper=1> whole;    // covers whole groups: sums over groups
  array[K + 1] int<lower=1> group_start;
  int<lower=0> G;
  array[G] int<lower=1, upper=J> groups;
  array[D + 1] int<lower=1> db_start;
  int<lower=0> DM;
  array[DM] int<lower=1, upper=U> db_members;
  array[D] int<lower=0, upper=1> db_whole;
  array[D + 1] int<lower=1> db_group_start;
  int<lower=0> DG;
  array[DG] int<lower=1, upper=J> db_groups;
  vector<lower=0>[D] db_population;        // census population of each database's area
}
transformed data {
  int has_census = census_error > 0;
}
parameters {
  real alpha;
  array[has_group] real<lower=0> group_sd;
  vector[has_group * J] group_z;
  real<lower=0> unit_sd;
  vector[U] unit_z;
  real contrast;
  vector[J] start_raw;                     // around: standard normal; before, after: log of the lead
  vector[J] log_pace;
  array[has_database] real<lower=0, upper=1> typed_share;
  array[has_database] real<lower=0> baseline_per_resident;
  vector[L] log_uplift;
  vector[has_census * U] census_z;
  array[has_reported] real reported;
}
model {
  vector[J] start = start_of(start_raw, start_kind, start_anchor, start_scale);
  vector[J] pace = exp(log_pace);
  vector[U] fraction = fraction_of(alpha, has_group ? group_sd[1] * group_z : group_z, unit_sd, unit_z, contrast,
                                   has_reported ? reported[1] : 0.0, logit_offset, reported_unit, covariate, group, linear);
  vector[U] people = people_of(population, census_error, census_z, uplift, log_uplift);
  target += normal_lpdf(alpha | alpha_mu, alpha_sd);
  target += normal_lpdf(contrast | contrast_mu, contrast_sd);
  if (has_reported) target += normal_lpdf(reported[1] | reported_mu, reported_sd);
  if (has_group) {
    if (group_sd_kind == 0) target += normal_lpdf(group_sd[1] | 0, group_sd_a) + log2();
    else if (group_sd_kind == 1) target += gamma_lpdf(group_sd[1] | group_sd_a, group_sd_b);
    else target += lognormal_lpdf(group_sd[1] | group_sd_a, group_sd_b);
    target += std_normal_lpdf(group_z);
  }
  if (unit_sd_kind == 0) target += normal_lpdf(unit_sd | 0, unit_sd_a) + log2();
  else if (unit_sd_kind == 1) target += gamma_lpdf(unit_sd | unit_sd_a, unit_sd_b);
  else target += lognormal_lpdf(unit_sd | unit_sd_a, unit_sd_b);
  target += std_normal_lpdf(unit_z);
  for (j in 1:J) {
    if (start_kind[j] == 0) {
      target += std_normal_lpdf(start_raw[j]);
    } else {
      // the lead or delay is HalfNormal(scale), sampled on the log scale (its Jacobian added)
      target += normal_lpdf(exp(start_raw[j]) | 0, start_scale[j]) + log2() + start_raw[j];
    }
  }
  target += normal_lpdf(log_pace | pace_mu, pace_sd);
  if (has_database) {
    target += beta_lpdf(typed_share[1] | typed_share_a, typed_share_b);
    target += lognormal_lpdf(baseline_per_resident[1] | baseline_mu, baseline_sd);
  }
  target += normal_lpdf(log_uplift | uplift_mu, uplift_sd);
  if (has_census) target += std_normal_lpdf(census_z);

  {
    // S_j = Σ_{u in j} π_u N_u: observations over whole groups sum over groups
    vector[J] S = rep_vector(0, J);
    for (u in 1:U) S[group[u]] += fraction[u] * people[u];
    for (k in 1:K) {
      if (!active[k]) continue;
      vector[J] now = progress(date[k], start, pace, ramp);
      vector[J] g = increment[k] ? gain(since[k], date[k], start, pace, ramp) : now;
      real num;
      real mu;
      if (whole[k]) {
        array[group_start[k + 1] - group_start[k]] int touched = groups[group_start[k]:(group_start[k + 1] - 1)];
        num = dot_product(g[touched], S[touched]);
      } else {
        array[member_start[k + 1] - member_start[k]] int m = members[member_start[k]:(member_start[k + 1] - 1)];
        if (base[k] > 0) num = base[k] * sum(fraction[m] .* g[group[m]]);
        else num = sum(fraction[m] .* g[group[m]] .* people[m]);
      }
      if (kind[k] == 0) {
        mu = num;
      } else if (kind[k] == 1) {
        mu = typed_share[1] * num + (increment[k] ? 0 : baseline_per_resident[1] * db_population[database[k]]);
      } else if (kind[k] == 2) {
        int d = database[k];
        real stock;
        if (db_whole[d]) {
          array[db_group_start[d + 1] - db_group_start[d]] int dg = db_groups[db_group_start[d]:(db_group_start[d + 1] - 1)];
          stock = dot_product(now[dg], S[dg]);
        } else {
          array[db_start[d + 1] - db_start[d]] int dm = db_members[db_start[d]:(db_start[d + 1] - 1)];
          stock = sum(fraction[dm] .* now[group[dm]] .* people[dm]);
        }
        mu = num / (baseline_per_resident[1] * db_population[d] + typed_share[1] * stock);
      } else {
        array[member_start[k + 1] - member_start[k]] int m = members[member_start[k]:(member_start[k + 1] - 1)];
        mu = num / (base[k] > 0 ? base[k] * size(m) : sum(people[m]));
      }
      // log-normal around μ (logit-normal for a coverage), with the Jacobian of the value as printed;
      // a bound adds the probability that the value lies on its side
      if (kind[k] == 3) {
        if (censor[k] == 0) target += normal_lpdf(logit(y[k]) | logit(mu), error[k]) - log(y[k]) - log1m(y[k]);
        else if (censor[k] == 1) target += log_ndtr((logit(mu) - logit(y[k])) / error[k]);
        else target += log_ndtr((logit(y[k]) - logit(mu)) / error[k]);
      } else {
        if (censor[k] == 0) target += lognormal_lpdf(y[k] | log(mu), error[k]);
        else if (censor[k] == 1) target += log_ndtr((log(mu) - log(y[k])) / error[k]);
        else target += log_ndtr((log(y[k]) - log(mu)) / error[k]);
      }
    }
  }
}
generated quantities {
  // the estimand: what every unit had collected by its date, summed (recomputed here, so that the
  // per-unit vectors are not written out with every draw)
  real total;
  real share;
  {
    vector[U] fraction = fraction_of(alpha, has_group ? group_sd[1] * group_z : group_z, unit_sd, unit_z, contrast,
                                     has_reported ? reported[1] : 0.0, logit_offset, reported_unit, covariate, group, linear);
    vector[U] people = people_of(population, census_error, census_z, uplift, log_uplift);
    total = sum(fraction .* progress(estimand_date, start_of(start_raw, start_kind, start_anchor, start_scale),
                                     exp(log_pace), ramp)[group] .* people);
    share = total / sum(people);
  }
}
