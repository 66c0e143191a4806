#!/usr/bin/env python3
"""report.py on a made-up run of two cases: every percentage is of the best probe reading of the run.

Usage: python3 bench/suite/test_report.py (standard library only; CTest runs it as attnkit.suite.report).
"""
import json
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent


def case_json(probes, benchmarks):
    return {"context": {"cpu_model": "test CPU", "compiled_isa": "fma3+avx2", "cpu_best_isa": "fma3+avx2",
                        **probes},
            "benchmarks": benchmarks}


def row(name, **counters):
    return {"name": name, "run_name": name, "run_type": "iteration", "real_time": 10.0, "time_unit": "ms",
            **counters}


class BestProbeOfTheRun(unittest.TestCase):
    def report(self, cases):
        with tempfile.TemporaryDirectory() as tmp:
            for key, data in cases.items():
                (Path(tmp) / f"{key}.json").write_text(json.dumps(data))
            subprocess.run([sys.executable, str(HERE / "report.py"), tmp], check=True, capture_output=True)
            return (Path(tmp) / "report.md").read_text()

    def test_shares_use_the_highest_reading_of_each_probe(self):
        # The first case's probes were disturbed (FMA 50, DRAM 10); the second's were not (FMA 100, DRAM 40).
        text = self.report({
            "softmax": case_json({"fp32_fma_peak_gflops_2t": "50.0", "dram_read_gbps_2t": "10.0"},
                                 [row("BM_Softmax/N:1024/D:64/causal:0/threads:2", **{"FLOP/s": 80e9})]),
            "decode": case_json({"fp32_fma_peak_gflops_2t": "100.0", "dram_read_gbps_2t": "40.0"},
                                [row("BM_Decode/Sk:16384/Hq:32/Hkv:8/D:128/threads:2", bytes_per_second=30e9)]),
        })
        self.assertIn("| 80.0 GFLOP/s | 80.0 % of FMA peak |", text)  # not 160 % of the disturbed probe
        self.assertIn("| 30.0 GB/s | 75.0 % of DRAM read |", text)  # not 300 %
        self.assertIn("FP32 FMA peak 100.0 GFLOP/s, DRAM read 40.0 GB/s", text)

    def test_a_row_whose_thread_count_was_not_probed_gets_no_share(self):
        text = self.report({
            "softmax": case_json({"fp32_fma_peak_gflops_1t": "50.0"},
                                 [row("BM_Softmax/N:1024/D:64/causal:0/threads:2", **{"FLOP/s": 80e9})]),
        })
        self.assertIn("| 80.0 GFLOP/s |  |", text)
        self.assertNotIn("% of FMA peak |", text)


if __name__ == "__main__":
    unittest.main()
