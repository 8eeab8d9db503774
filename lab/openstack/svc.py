#!/usr/bin/python3
"""Run an OpenStack console entry point without its console script.

Usage: svc.py NAME module:function [ARGS...]
The -common packages that ship the console scripts are not installed (their
maintainer scripts want to configure system databases), so the lab starts
each service through this launcher. NAME becomes argv[0] (and shows in ps).
"""
import importlib
import sys

name, target = sys.argv[1], sys.argv[2]
module, func = target.split(":")
sys.argv = [name] + sys.argv[3:]
sys.exit(getattr(importlib.import_module(module), func)())
