# The DP axis: every privacy variant of the DP cells is trained by the
# studies' own rules (the {privacy} path level; collaborative_defences: participant-level
# DP); here each membership variant is audited and
# the axis is aggregated into the trade-off and audit tables and figures. The white-box and
# black-box audit cells train their own models at every finite epsilon, and the white-box
# one-run audit trains one model of the white-box cell with many canaries at each.
AUDIT = "results/audit/membership/{dataset}/{variant}/{privacy}.json"
AUDIT_ATTACK = config["privacy"]["audit_attack"]
PROPERTY_RECORD = (
    "results/attacks/property_poisoning/{dataset}/{property}/{group}/{model}/{privacy}/p{rate}.json"
)


CANARY = f"{MEMBERSHIP}/{{privacy}}/canary"


rule train_canary_membership:
    input:
        code=imports_of("train_canary_membership.py"),
        pool="results/data/{dataset}/pool.npz",
        splits=f"{MEMBERSHIP}/splits.npz",
    output:
        model=f"{CANARY}.safetensors",
        canaries=f"{CANARY}s.npz",
    params:
        row=private_row("membership"),
        canaries=config["privacy"]["canaries"],
        seed=config["seed"],
    log:
        "results/logs/train_canary_membership/{dataset}/{variant}/{privacy}.log",
    benchmark:
        "results/benchmarks/train_canary_membership/{dataset}/{variant}/{privacy}.tsv"
    threads: 1
    conda:
        ENV
    script:
        "../scripts/train_canary_membership.py"


rule audit_membership:
    input:
        unpack(canary_inputs),
        code=imports_of("audit_membership.py"),
        target=f"{MEMBERSHIP}/{{privacy}}/target.safetensors",
        scores=f"{MEMBERSHIP_ATTACKS}/{AUDIT_ATTACK}.scores.npz",
    output:
        AUDIT,
    params:
        row=private_row("membership"),
        attack=AUDIT_ATTACK,
        guesses=config["privacy"]["canary_guesses"],
        natural_optimal=config["privacy"]["natural_optimal"],
        delta=config["privacy"]["delta"],
        seed=config["seed"],
    log:
        "results/logs/audit_membership/{dataset}/{variant}/{privacy}.log",
    conda:
        ENV
    script:
        "../scripts/audit_membership.py"


rule audit_whitebox:
    input:
        code=imports_of("audit_whitebox.py"),
        pool="results/data/{dataset}/pool.npz",
    output:
        WHITEBOX,
    params:
        row=whitebox_row,
        audit=config["privacy"]["audit"],
        seed=config["seed"],
    log:
        "results/logs/audit_whitebox/{dataset}/{privacy}.log",
    benchmark:
        "results/benchmarks/audit_whitebox/{dataset}/{privacy}.tsv"
    threads: 1
    conda:
        ENV
    script:
        "../scripts/audit_whitebox.py"


rule audit_blackbox:
    input:
        code=imports_of("audit_blackbox.py"),
        pool="results/data/{dataset}/pool.npz",
    output:
        BLACKBOX,
    params:
        row=whitebox_row,
        blackbox=config["privacy"]["blackbox"],
        model=config["privacy"]["audit"]["model"],
        seed=config["seed"],
    log:
        "results/logs/audit_blackbox/{dataset}/{privacy}.log",
    benchmark:
        "results/benchmarks/audit_blackbox/{dataset}/{privacy}.tsv"
    threads: 1
    conda:
        ENV
    script:
        "../scripts/audit_blackbox.py"


rule audit_one_run:
    input:
        code=imports_of("audit_one_run.py"),
        pool="results/data/{dataset}/pool.npz",
    output:
        ONE_RUN,
    params:
        row=whitebox_row,
        audit=config["privacy"]["audit"],
        one_run=config["privacy"]["one_run"],
        seed=config["seed"],
    log:
        "results/logs/audit_one_run/{dataset}/{privacy}.log",
    benchmark:
        "results/benchmarks/audit_one_run/{dataset}/{privacy}.tsv"
    threads: 1
    conda:
        ENV
    script:
        "../scripts/audit_one_run.py"

# A table job reads small files and ends the DAG: on a cluster it runs on the submitting
# host as soon as its inputs exist (profiles/slurm says why).
localrules:
    aggregate_privacy,


rule aggregate_privacy:
    input:
        code=imports_of("aggregate_privacy.py"),
        membership=dp_cells(
            "membership",
            f"{MEMBERSHIP_ATTACKS}/{{attack}}.json",
            attack=config["membership"]["attacks"],
        ),
        audits=dp_cells("membership", AUDIT),
        whitebox=cell_audits(WHITEBOX),
        blackbox=cell_audits(BLACKBOX),
        one_run=cell_audits(ONE_RUN),
        property_poisoning=dp_cells(
            "property_poisoning",
            PROPERTY_RECORD,
            dataset=config["property_poisoning"]["dataset"],
            rate=property_rates("pairs"),
        ),
        collaborative_defences=dp_cells(
            "collaborative_defences", f"{COLLABORATIVE_DEFENCES}/defended_property.json"
        ),
    output:
        **study_outputs("privacy"),
    log:
        "results/logs/aggregate_privacy.log",
    conda:
        ENV
    script:
        "../scripts/aggregate_privacy.py"
