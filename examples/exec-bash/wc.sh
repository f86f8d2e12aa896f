#!/bin/sh
# A shell script as a function (stdio protocol): the request body arrives on stdin, what the
# script prints is the response; the request line and headers are in Http_* variables.
set -eu
words=$(wc -w | tr -d ' ')
echo "$Http_Method $Http_Path${Http_Query:+?$Http_Query}: $words words"
echo "counted $words words for ${Http_User_Agent:-someone}" >&2
