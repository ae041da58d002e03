"""Expected triggers and trigger functions, as the migrations create them. GENERATED.

Do not edit by hand: run ``python scripts/trigger_manifest.py`` after any migration that creates,
changes or drops a trigger or a trigger function; ``--check`` (and a test) fail while this file is
stale. ``db/health.py`` compares every database with these digests (see ``db/trigger_catalog.py``
for what each digest covers).
"""

from __future__ import annotations

__all__ = ["FUNCTIONS", "TRIGGERS"]

TRIGGERS: dict[str, dict[str, dict[str, str]]] = {
    "postgresql": {
        "trg_artifact_edges_no_delete": {
            "digest": "c79f5a6f8a7f31ed25604ba2d953fd4b28a5d10217a9ed9614fdddbe5091cdd8",
            "enabled": "always",
            "function": "ca_reject_append_only_change",
            "table": "artifact_edges",
        },
        "trg_artifact_edges_no_truncate": {
            "digest": "ab3c69b823eb5bca2f0d15bce9fc913a49b01514acda870d6cd9ba60c97ce005",
            "enabled": "always",
            "function": "ca_reject_append_only_change",
            "table": "artifact_edges",
        },
        "trg_artifact_edges_no_update": {
            "digest": "c307bfd3d0c05141d473a158719e126496494b98c49a74a904c4559b33943162",
            "enabled": "always",
            "function": "ca_reject_append_only_change",
            "table": "artifact_edges",
        },
        "trg_artifact_lineage_no_delete": {
            "digest": "9641243ec1922f6bb42f5789f90c5c3a39387f8efaba5074c1c47cbbcf017ccf",
            "enabled": "always",
            "function": "ca_reject_append_only_change",
            "table": "artifact_lineage",
        },
        "trg_artifact_lineage_no_truncate": {
            "digest": "02afa21e9464d9205afaf61ce5590bbfcf8796697ebc0bdf665c6fc5b139731f",
            "enabled": "always",
            "function": "ca_reject_append_only_change",
            "table": "artifact_lineage",
        },
        "trg_artifact_lineage_no_update": {
            "digest": "64ca942b709bc9b1efb55fe33b4e4c7a50fcd3d4d43d7b5f27e672aff3bbbbbd",
            "enabled": "always",
            "function": "ca_reject_append_only_change",
            "table": "artifact_lineage",
        },
        "trg_bars_guard_update": {
            "digest": "4534f8601e03af78ca140227792c0923e7d6700bcfab8b3cab9f96479f111511",
            "enabled": "always",
            "function": "ca_bars_guard_update",
            "table": "bars",
        },
        "trg_bars_history_guard_insert": {
            "digest": "7ca1759b3cfb6192126dba30285f6be8c288ab79f2e791cbe31a461f18c3274e",
            "enabled": "always",
            "function": "ca_bars_history_guard_insert",
            "table": "bars_history",
        },
        "trg_bars_history_no_delete": {
            "digest": "f29a5f5fcca8d64aba7d32d7524289a8d79af871076621b8990a6cecda511e20",
            "enabled": "always",
            "function": "ca_reject_append_only_change",
            "table": "bars_history",
        },
        "trg_bars_history_no_truncate": {
            "digest": "c44af571a28ee604d31fc1475abbc690324c492389f6b501dcfb19c760cf38eb",
            "enabled": "always",
            "function": "ca_reject_append_only_change",
            "table": "bars_history",
        },
        "trg_bars_history_no_update": {
            "digest": "098be204bb1ed975d1688524ae16229fe1ce6108a06d2e4d3c1ba7e4a9f9f546",
            "enabled": "always",
            "function": "ca_reject_append_only_change",
            "table": "bars_history",
        },
        "trg_bars_keep_history": {
            "digest": "2913870ca4bbc3caaa4b049eee3806e4ca4c2107655c99f5855bd1ed0c76ae22",
            "enabled": "always",
            "function": "ca_bars_keep_history",
            "table": "bars",
        },
        "trg_bars_no_delete": {
            "digest": "673c33bc357bdc77de8b67c67b16f6b7acc24ab759088c3600e1acc10482f28e",
            "enabled": "always",
            "function": "ca_reject_market_delete",
            "table": "bars",
        },
        "trg_bars_no_truncate": {
            "digest": "faeb1f0673e19605ff865e79caa6da4a251b2c9d5f4ae8476aae15e0b2c7803a",
            "enabled": "always",
            "function": "ca_reject_market_delete",
            "table": "bars",
        },
        "trg_eligibility_reports_no_delete": {
            "digest": "8bad3e1b43a150d7881f0322d26af6023d443442455c35844235a5ab569632fe",
            "enabled": "always",
            "function": "ca_reject_append_only_change",
            "table": "eligibility_reports",
        },
        "trg_eligibility_reports_no_truncate": {
            "digest": "947e5a2fc5236ec734588075c6ee23fad1d5e064b42b93e64af01839752ee4e0",
            "enabled": "always",
            "function": "ca_reject_append_only_change",
            "table": "eligibility_reports",
        },
        "trg_eligibility_reports_no_update": {
            "digest": "b57269ea3bbeeedc8e59d776184eeee763beda27c85348f0476cc10a7e5a8479",
            "enabled": "always",
            "function": "ca_reject_append_only_change",
            "table": "eligibility_reports",
        },
        "trg_governance_events_guard_insert": {
            "digest": "1d32288b031c9da0ca87d31881ed747258c0901b2bd5c2074b87c8c23d932347",
            "enabled": "always",
            "function": "ca_guard_event_insert",
            "table": "governance_events",
        },
        "trg_governance_events_no_delete": {
            "digest": "442aea9f2f7321d6606e56133b522ee78dcd518dc013152b7c5d510136d40c8b",
            "enabled": "always",
            "function": "ca_reject_append_only_change",
            "table": "governance_events",
        },
        "trg_governance_events_no_truncate": {
            "digest": "4121b643d5251bbb1f1c9692a4eeefc7336c8d49460de5a385bf7c37bc3f507f",
            "enabled": "always",
            "function": "ca_reject_append_only_change",
            "table": "governance_events",
        },
        "trg_governance_events_no_update": {
            "digest": "71d3722436a3f1bee894d8b3ec343902a6d7cb987ce03b5ae3f629d2d38e9845",
            "enabled": "always",
            "function": "ca_reject_append_only_change",
            "table": "governance_events",
        },
        "trg_instruments_guard_update": {
            "digest": "4be55e902e976051547ffb34c482f631cfd1c8a68ef416c0bf960d218948397e",
            "enabled": "always",
            "function": "ca_instruments_guard_update",
            "table": "instruments",
        },
        "trg_instruments_history_guard_insert": {
            "digest": "d0556daef8756c94188ab39a93ae8783f95bb0c1598da71647fe100eec1c0d91",
            "enabled": "always",
            "function": "ca_instruments_history_guard_insert",
            "table": "instruments_history",
        },
        "trg_instruments_history_no_delete": {
            "digest": "fbd98fad250db9ddbcc0988416795525ca27faea65df01eba9ee10e1f91339b1",
            "enabled": "always",
            "function": "ca_reject_append_only_change",
            "table": "instruments_history",
        },
        "trg_instruments_history_no_truncate": {
            "digest": "0e5038b37e0bd6894c013088f6826d7321fcfcda28fea4d5b452edbb128ea131",
            "enabled": "always",
            "function": "ca_reject_append_only_change",
            "table": "instruments_history",
        },
        "trg_instruments_history_no_update": {
            "digest": "74f73e2a8c694e437ce71352a167e9766af5bfe32081d2bd7bf512919c22d16e",
            "enabled": "always",
            "function": "ca_reject_append_only_change",
            "table": "instruments_history",
        },
        "trg_instruments_keep_history": {
            "digest": "f81920a22cf9ef2da7d466059cb414d20dbab0f7c09262472c56431495367f50",
            "enabled": "always",
            "function": "ca_instruments_keep_history",
            "table": "instruments",
        },
        "trg_instruments_no_delete": {
            "digest": "0baa43d0b87fe8906990a1cdd5f44ed832a553be41f6d72cd0f340c7211f3f5b",
            "enabled": "always",
            "function": "ca_reject_market_delete",
            "table": "instruments",
        },
        "trg_instruments_no_truncate": {
            "digest": "206a93927d39016c83633071f7829caa1366d00e2c7bbbd0d53c862871a0afd9",
            "enabled": "always",
            "function": "ca_reject_market_delete",
            "table": "instruments",
        },
        "trg_market_revisions_guard_insert": {
            "digest": "9458928f3a362688eb8a37d8237f00f6594c5f63562b42723ace7454d0834cf5",
            "enabled": "always",
            "function": "ca_guard_market_revision_insert",
            "table": "market_revisions",
        },
        "trg_market_revisions_no_delete": {
            "digest": "c7ac4e78dd3d94ca4b7df66a8019b34f8d323e0a276c4bf366f22aa313e179d2",
            "enabled": "always",
            "function": "ca_reject_append_only_change",
            "table": "market_revisions",
        },
        "trg_market_revisions_no_truncate": {
            "digest": "f4f6cf22af09e3d126ba9ff0e069a752b6ff62eec72b961679b1d2c59324e7f5",
            "enabled": "always",
            "function": "ca_reject_append_only_change",
            "table": "market_revisions",
        },
        "trg_market_revisions_no_update": {
            "digest": "2c48b8832222ac8af5ecd7d5791e9e0e4293a0dcf20f0832a33e5ee4cb86624e",
            "enabled": "always",
            "function": "ca_reject_append_only_change",
            "table": "market_revisions",
        },
        "trg_promotion_candidates_guard_insert": {
            "digest": "8c5b2f7c5cdb12cd4b8cd60e0b69a09bac4cb29d9d2f3eff9550c23df0e60fd3",
            "enabled": "always",
            "function": "ca_guard_candidate_insert",
            "table": "promotion_candidates",
        },
        "trg_promotion_candidates_guard_update": {
            "digest": "a2aeb5b6669674a885a3d9a0caf7ba3c3a19736cae6d6cd4960c0cbdf22394f9",
            "enabled": "always",
            "function": "ca_guard_candidate_update",
            "table": "promotion_candidates",
        },
        "trg_promotion_candidates_no_delete": {
            "digest": "90a9463dc650ae12c606ef21d30645c22b884c33c3c398ecf995ae2531e48bed",
            "enabled": "always",
            "function": "ca_reject_candidate_delete",
            "table": "promotion_candidates",
        },
        "trg_promotion_candidates_no_truncate": {
            "digest": "85b0ca5432c6ab7bcba267ebc1eb8ac42f8f58950cee566def4c5e638f3e34b6",
            "enabled": "always",
            "function": "ca_reject_candidate_delete",
            "table": "promotion_candidates",
        },
        "trg_signing_keys_guard_insert": {
            "digest": "ba68491ee2817085720b2ff1959cfebcc4e12a118dacbb33501a6cfcd0cb1df1",
            "enabled": "always",
            "function": "ca_guard_signing_key_insert",
            "table": "signing_keys",
        },
        "trg_signing_keys_guard_update": {
            "digest": "d276219f4e65919ed1854e2f2b3ef3d86e5d0ba6d7bcb90e9a9a4bc85ca284fb",
            "enabled": "always",
            "function": "ca_guard_signing_key_update",
            "table": "signing_keys",
        },
        "trg_signing_keys_no_delete": {
            "digest": "e9b3341a50994d5f7ec5023257edcf6fd1920f4d5ab41c0f12244fe0f2a82905",
            "enabled": "always",
            "function": "ca_reject_signing_key_delete",
            "table": "signing_keys",
        },
        "trg_signing_keys_no_truncate": {
            "digest": "91fd767f48a0c704db521e51ad69e1ce78f88daad8fcd78a957b9d9f8ba44325",
            "enabled": "always",
            "function": "ca_reject_signing_key_delete",
            "table": "signing_keys",
        },
        "trg_tenants_guard_insert": {
            "digest": "71ed8263d8232b65917d63d63935d921a52e0e19895fd7322219ae3f26ccd2f0",
            "enabled": "always",
            "function": "ca_guard_tenant_insert",
            "table": "tenants",
        },
        "trg_tenants_guard_update": {
            "digest": "09e187bf3dd4dea5d8b39b2f690929cb6085380439b090e117b491be58508611",
            "enabled": "always",
            "function": "ca_guard_tenant_update",
            "table": "tenants",
        },
        "trg_tenants_no_delete": {
            "digest": "4d7602574bed4e8107b5369f220bf720c253c77a26690494c8ad5fe77d58a022",
            "enabled": "always",
            "function": "ca_reject_tenant_delete",
            "table": "tenants",
        },
        "trg_tenants_no_truncate": {
            "digest": "54f6777ae9548c0c450b16bf7d9b4ef0a54ecfdfaad4142ccba63cd8f099680e",
            "enabled": "always",
            "function": "ca_reject_tenant_delete",
            "table": "tenants",
        },
        "trg_trial_ledger_guard_insert": {
            "digest": "c78180197d346c99a87f16b40efeb5ee8c753c34ef2b38f25dd27e43a143b796",
            "enabled": "always",
            "function": "ca_guard_trial_insert",
            "table": "trial_ledger",
        },
        "trg_trial_ledger_no_delete": {
            "digest": "0ceeeb9ad1b330bc9483e1db4fd0922b8feab5f0da72ffca0ed26386961d7430",
            "enabled": "always",
            "function": "ca_reject_append_only_change",
            "table": "trial_ledger",
        },
        "trg_trial_ledger_no_truncate": {
            "digest": "ccb6c8c8ba46bb004bfd533e85e9a381f3f7c62be101eaf0c513f4845a578c2e",
            "enabled": "always",
            "function": "ca_reject_append_only_change",
            "table": "trial_ledger",
        },
        "trg_trial_ledger_no_update": {
            "digest": "a63b80e8284f693bead554bc180dd0a9845a4d84874127f294f22b47906f0c79",
            "enabled": "always",
            "function": "ca_reject_append_only_change",
            "table": "trial_ledger",
        },
    },
    "sqlite": {
        "trg_artifact_edges_no_delete": {
            "digest": "c226b7afe8ba7b5aa04a79a61ade194630a3dd8f01bd7efbd594b0e54d0dc247",
            "enabled": "always",
            "table": "artifact_edges",
        },
        "trg_artifact_edges_no_replace": {
            "digest": "f54be4defaa432297f036fc933a41244dcad928f8a4afe1d4032d7166d11d628",
            "enabled": "always",
            "table": "artifact_edges",
        },
        "trg_artifact_edges_no_update": {
            "digest": "517fb33db07ae4bdc6d3e047fd63c1ef7babe2e4b665400162eec210dff9e56d",
            "enabled": "always",
            "table": "artifact_edges",
        },
        "trg_artifact_edges_rowid_positive": {
            "digest": "815cb106ad788940f056907a9e9da7087a8bb1b0a0d44ebb6bebbe5e3c42913b",
            "enabled": "always",
            "table": "artifact_edges",
        },
        "trg_artifact_lineage_no_delete": {
            "digest": "52fca9712c3e04b1af21d40e5b5d514166f1df5bb37796e7ad59db11e073ce62",
            "enabled": "always",
            "table": "artifact_lineage",
        },
        "trg_artifact_lineage_no_replace": {
            "digest": "ac15d53eca0583681def01a12b1ce7d0dddfc9b45f8165f9eebd0f5b7321c67c",
            "enabled": "always",
            "table": "artifact_lineage",
        },
        "trg_artifact_lineage_no_update": {
            "digest": "67e2f0f3132a1d6fdbe0fc0f66cf85755674b8c35b8fc08bd8492c94b6192cdc",
            "enabled": "always",
            "table": "artifact_lineage",
        },
        "trg_artifact_lineage_rowid_positive": {
            "digest": "1fb5a4ed2c5fbc9675a19ccdd5a317d88970337b5e0a949b33ee4e7dd2a7d74f",
            "enabled": "always",
            "table": "artifact_lineage",
        },
        "trg_bars_guard_update": {
            "digest": "f8544094ad46c03dd47817193f50927be3a5d32af71f6f35d3f2f285077fa85c",
            "enabled": "always",
            "table": "bars",
        },
        "trg_bars_history_guard_insert": {
            "digest": "fa0c5c578df08d5223f08cdcbeea0296c079405aa9d0d028bf3b33f939fee133",
            "enabled": "always",
            "table": "bars_history",
        },
        "trg_bars_history_no_delete": {
            "digest": "9c54429bc67e37789589c3f4f9602233f6b6fe5e6d8a0d3cd8205704e3fc95b6",
            "enabled": "always",
            "table": "bars_history",
        },
        "trg_bars_history_no_replace": {
            "digest": "f87c6c5aa10f66588aa40411fd797484ec04b3a622e6668387441f06b57307a5",
            "enabled": "always",
            "table": "bars_history",
        },
        "trg_bars_history_no_update": {
            "digest": "2713f90555e063280c4e86b171e79e29571de3110e3eba4361af2b6cf6a872da",
            "enabled": "always",
            "table": "bars_history",
        },
        "trg_bars_keep_history": {
            "digest": "82a56aca1cde88453a21ebe357cb318a119b54d353cedac6ee788b0dd9992439",
            "enabled": "always",
            "table": "bars",
        },
        "trg_bars_no_delete": {
            "digest": "092118d5bc72ccf6dc06af6090e3e45e1844b23d5dfe7dad9aeceb33a0d477d7",
            "enabled": "always",
            "table": "bars",
        },
        "trg_eligibility_reports_no_delete": {
            "digest": "03953654265ad845c8206f4dea292a71ac71f4d32aebdd3e22daceed70c2507d",
            "enabled": "always",
            "table": "eligibility_reports",
        },
        "trg_eligibility_reports_no_replace": {
            "digest": "753082b415f838afcf23223db675979c6968be46349945b8ea3a98b38bf79c92",
            "enabled": "always",
            "table": "eligibility_reports",
        },
        "trg_eligibility_reports_no_update": {
            "digest": "982294eb93c597e7eeb4de6fe43af63e2980163ecabe42c24e834156dc37ceed",
            "enabled": "always",
            "table": "eligibility_reports",
        },
        "trg_eligibility_reports_rowid_positive": {
            "digest": "780358b216c222fefc496eebe481e3e5a88be4c56af814f409b7c047f546a506",
            "enabled": "always",
            "table": "eligibility_reports",
        },
        "trg_governance_events_guard_insert": {
            "digest": "cd3b3bb896c4c6686998da8b0900ccd2771c07ebd1fb7073988cae71f30e4d21",
            "enabled": "always",
            "table": "governance_events",
        },
        "trg_governance_events_no_delete": {
            "digest": "8158fe0f0e1b452afa61118a02cb18f6f874c171c80815b00828b3dbb8e421a4",
            "enabled": "always",
            "table": "governance_events",
        },
        "trg_governance_events_no_replace": {
            "digest": "39a2b3e2c5d838ff0c97c7f399871a0100d52b00321b0b421892245cfcfd7c75",
            "enabled": "always",
            "table": "governance_events",
        },
        "trg_governance_events_no_update": {
            "digest": "d38516a1855324c9527b6e6adc027ebd7243a3eecb4f3aa3b4dcc9db45bc5c44",
            "enabled": "always",
            "table": "governance_events",
        },
        "trg_governance_events_rowid_positive": {
            "digest": "cfb085a2bc27567a0a48ab051aed079f103531e85764071bae95dd780a24753d",
            "enabled": "always",
            "table": "governance_events",
        },
        "trg_instruments_guard_update": {
            "digest": "1258e12e1e88e959b292b912384cf9a67a42d9a0095c6eba8ca99c9ec22372b3",
            "enabled": "always",
            "table": "instruments",
        },
        "trg_instruments_history_guard_insert": {
            "digest": "f1338d755390615371e4216687eb2038e5e4e57ccd16ddabe2477f6a360519d9",
            "enabled": "always",
            "table": "instruments_history",
        },
        "trg_instruments_history_no_delete": {
            "digest": "9d3f9daad212fc4d23f53d350cc55eb46f0d0decb79b6729d964eb9494be2de2",
            "enabled": "always",
            "table": "instruments_history",
        },
        "trg_instruments_history_no_replace": {
            "digest": "457ccf18a0890c2da008d90fdbe596237b2e0f0d9f77e45f3b1a3ee6899c0a72",
            "enabled": "always",
            "table": "instruments_history",
        },
        "trg_instruments_history_no_update": {
            "digest": "53abb588f67429bdbce5e65f7c53710e634cf0b4a8f6e101f1aa172ff1a4799c",
            "enabled": "always",
            "table": "instruments_history",
        },
        "trg_instruments_history_rowid_positive": {
            "digest": "bfa766ec774f98d1bf7eae6b3a0f73bfff41c057f79bebb4c9d4b3e697de3ac5",
            "enabled": "always",
            "table": "instruments_history",
        },
        "trg_instruments_keep_history": {
            "digest": "f47400bff6facaf5daf068f897b4f7b1226e5850e720880f3d9be63edf98d9a0",
            "enabled": "always",
            "table": "instruments",
        },
        "trg_instruments_no_delete": {
            "digest": "1a8751f41b339fbcd450754eabd606cce199ebd3c5f596457244b8998efeddfb",
            "enabled": "always",
            "table": "instruments",
        },
        "trg_market_revisions_guard_insert": {
            "digest": "0397f3433f88af298d67378d0757c2c81b18e63a25eb311dd30cca4499298000",
            "enabled": "always",
            "table": "market_revisions",
        },
        "trg_market_revisions_no_delete": {
            "digest": "d7a68696eecd2f4eb965c877bffc2eceebe5c8b57dc529139676b4df507ac97c",
            "enabled": "always",
            "table": "market_revisions",
        },
        "trg_market_revisions_no_replace": {
            "digest": "d0c6976404356141aa3a86bf1a9eb49b5568e78440ca8645c7f1df48bc1fcbb0",
            "enabled": "always",
            "table": "market_revisions",
        },
        "trg_market_revisions_no_update": {
            "digest": "f7b7dfac7cc7f9acbbd498f4def785fee7f7add0d2b912bdd87f4707a6284074",
            "enabled": "always",
            "table": "market_revisions",
        },
        "trg_market_revisions_rowid_positive": {
            "digest": "eaa0f7adc771b8901b681752bb7cc975cf843a768d11bfbe7f235b2240460369",
            "enabled": "always",
            "table": "market_revisions",
        },
        "trg_promotion_candidates_guard_insert": {
            "digest": "00500c22880d3af5968ffc120ab4f6793fc0cfc56a95b8860c8fd6f0370270f8",
            "enabled": "always",
            "table": "promotion_candidates",
        },
        "trg_promotion_candidates_guard_update": {
            "digest": "f69da4d45ac6ad9309d89ef4a4ae9b1d549c654319d7bca55e55927fb28729b9",
            "enabled": "always",
            "table": "promotion_candidates",
        },
        "trg_promotion_candidates_no_delete": {
            "digest": "86411379174e504e8c4d89427c2e133a94d3758a6006a825bfffd15f81987eb7",
            "enabled": "always",
            "table": "promotion_candidates",
        },
        "trg_promotion_candidates_no_replace": {
            "digest": "b4bb21ec82996b3d520de095eba2c89d72c95ff86c7f59c31840942cf9f7be00",
            "enabled": "always",
            "table": "promotion_candidates",
        },
        "trg_promotion_candidates_rowid_immutable": {
            "digest": "127f5537c35703068b7ec200f3593bc95da25bf3e43cd6e7743717d124e0d4c2",
            "enabled": "always",
            "table": "promotion_candidates",
        },
        "trg_promotion_candidates_rowid_positive": {
            "digest": "e5a95dd7b79eeaed80484af9e43ac76a53b465c6805b2757432f08f688f2a388",
            "enabled": "always",
            "table": "promotion_candidates",
        },
        "trg_signing_keys_guard_insert": {
            "digest": "4d7ad5942907ba3becdbea61d2c2bfb4489bc442e59195f1ecd03c3a63b45de0",
            "enabled": "always",
            "table": "signing_keys",
        },
        "trg_signing_keys_guard_update": {
            "digest": "e88caf9405a070de99dc6567b44171caa019a28ac3c8af10d86069a723bdae99",
            "enabled": "always",
            "table": "signing_keys",
        },
        "trg_signing_keys_no_delete": {
            "digest": "b9a93fb4398f49120edbe01986124df0ab940cd3f310eeb7550b3d1c37bfc8ab",
            "enabled": "always",
            "table": "signing_keys",
        },
        "trg_signing_keys_no_replace": {
            "digest": "c14a10a22adb21b73381e0e51ae9adeba9df59eefbf846ee9adc018434261f38",
            "enabled": "always",
            "table": "signing_keys",
        },
        "trg_signing_keys_rowid_immutable": {
            "digest": "2f8ba67d8f970a24dc8b63bea1647ea3c0599b94b1e4015c57ef55a3b98b29ec",
            "enabled": "always",
            "table": "signing_keys",
        },
        "trg_signing_keys_rowid_positive": {
            "digest": "455b3fe7309c1faceafedaa1a50eb162a3225646f4494dab3cd07bd1dc4f3c40",
            "enabled": "always",
            "table": "signing_keys",
        },
        "trg_tenants_guard_insert": {
            "digest": "4ae7090e25b53dd6af4c483670a389cd4f6d2b4187cee293f9b1c171f6b1c2d2",
            "enabled": "always",
            "table": "tenants",
        },
        "trg_tenants_guard_update": {
            "digest": "baeb52dd247d40f523c9586b4db25f7f25e066c28a0c223a3183c58c02a358ab",
            "enabled": "always",
            "table": "tenants",
        },
        "trg_tenants_no_delete": {
            "digest": "2c3d4553c2d40e4dd8e9f63b10dc3ed733384eaf78ff657527a16ea6d2afe6b7",
            "enabled": "always",
            "table": "tenants",
        },
        "trg_tenants_no_replace": {
            "digest": "8c3f1f5946e0a671d4887ca16df4225f3753597d74a54c661c4b3142622b496f",
            "enabled": "always",
            "table": "tenants",
        },
        "trg_tenants_rowid_immutable": {
            "digest": "ab421201c669a3bad4d61bd8aa0b8f3b400d2967167db693a108958a6a2f8919",
            "enabled": "always",
            "table": "tenants",
        },
        "trg_tenants_rowid_positive": {
            "digest": "e77ee51caf1d1873b7d347e006a0d71ffec2f92dcd0d3121106960f371547ff4",
            "enabled": "always",
            "table": "tenants",
        },
        "trg_trial_ledger_guard_insert": {
            "digest": "8f88bd8645db487e22bdcf1e87c0bf3f0fc69b996b5f0009ccc69012181d40c8",
            "enabled": "always",
            "table": "trial_ledger",
        },
        "trg_trial_ledger_no_delete": {
            "digest": "b301e437fecc031c373dab2f0f74ad21152e4784e324d7856be335f3a89749e1",
            "enabled": "always",
            "table": "trial_ledger",
        },
        "trg_trial_ledger_no_replace": {
            "digest": "f7c19014fc6af5850fc60dfebe3c2d40980449afb675a63a93fa0c5aa2009aad",
            "enabled": "always",
            "table": "trial_ledger",
        },
        "trg_trial_ledger_no_update": {
            "digest": "c9756c8bea1ed09ee06af1671d6f902f10e7daee67e3656c03fbc545a48ae7ee",
            "enabled": "always",
            "table": "trial_ledger",
        },
        "trg_trial_ledger_rowid_positive": {
            "digest": "f675bed08baf6b14f38ac889779ae9e287b7b00cfeb0dc4dcb6a433fe9cd8c20",
            "enabled": "always",
            "table": "trial_ledger",
        },
    },
}
FUNCTIONS: dict[str, dict[str, dict[str, str]]] = {
    "postgresql": {
        "ca_bars_guard_update": {
            "digest": "e593c1e606c0955c619780cb1be232f999f952bee2d159af7a53150d4ab7179f",
        },
        "ca_bars_history_guard_insert": {
            "digest": "ae8a125bac15bbe06abcadf9406d977519c303ccdfba5b4307443dede6ca7812",
        },
        "ca_bars_keep_history": {
            "digest": "acb65eda0b5088cdd9c6383b88d437f06da1f77aae7aa45fb95141aab8e6460f",
        },
        "ca_guard_candidate_insert": {
            "digest": "2825149eda0fd1c5ad96b766b8eaed8a84e3332a3d688c2140660e9d67e941ee",
        },
        "ca_guard_candidate_update": {
            "digest": "d207278b1027b692ccf8dd67b4133d5e2949b93f79bb198b14e270a31d68309b",
        },
        "ca_guard_event_insert": {
            "digest": "d51c53e71ba2fc5729131a9478d609cd1aa20ec51ffd24d9672fe340ff5d39d1",
        },
        "ca_guard_market_revision_insert": {
            "digest": "38db818a0e46d95922749ac4108a6030d64188274ae734791ad24ab57cad1bde",
        },
        "ca_guard_signing_key_insert": {
            "digest": "b24788ac2949846865da29515b628cf88e1c2576618b971744e203a7995f67b9",
        },
        "ca_guard_signing_key_update": {
            "digest": "f5d5abe3e37ba1f2da5a4dffc864e2f29011ba425cab47eb633c315f732edab3",
        },
        "ca_guard_tenant_insert": {
            "digest": "edde89d6fc2676e7153c4c5bb566f218084ecb186497854c9a95ea0a7450a18c",
        },
        "ca_guard_tenant_update": {
            "digest": "f76b7f689457b5d45382aa5ed690da62c2b8ebe3501915dc4fcdf016b4eb64e5",
        },
        "ca_guard_trial_insert": {
            "digest": "b7af3fc7c3ed66ed036b095510c27adaef1c40c516cafd919dcd3635099d89d7",
        },
        "ca_instruments_guard_update": {
            "digest": "8175883b6483232199eb394220b29fd226267d76202166cab3bad283ee93bf4e",
        },
        "ca_instruments_history_guard_insert": {
            "digest": "53815ff867804d419a72d261a2eb3791016a00d0a06f9b71df99e5718bb6c420",
        },
        "ca_instruments_keep_history": {
            "digest": "2b1e91dcbea1d942f014d4d8309c1925ab7923e38d81821327408a845b7c17ac",
        },
        "ca_reject_append_only_change": {
            "digest": "6fe903a6631756cb670422518f1e87d4a9631349cf44bb352206070f1b6a7c93",
        },
        "ca_reject_candidate_delete": {
            "digest": "c3811db978478ca013ff1d95e3c3eb4e6a9a9aaeca031cf77673028c1cb8faac",
        },
        "ca_reject_market_delete": {
            "digest": "fa058266c7ffa216467eac3a4704abcb2b8b86932a7055cabef4cee005a2adc2",
        },
        "ca_reject_signing_key_delete": {
            "digest": "93ffa66464d9b4208c7b71755633651eaf5f488756561577d92fa8365238ec48",
        },
        "ca_reject_tenant_delete": {
            "digest": "225246c30ea8baaf33596031899acf7208927012a3f3310373da171593e908ba",
        },
    },
    "sqlite": {},
}
