#!/bin/bash

__task_cursor_index_in_current_word() {
    local remaining="${COMP_LINE}"

    local word
    for word in "${COMP_WORDS[@]::COMP_CWORD}"; do
        remaining="${remaining##*([[:space:]])"${word}"*([[:space:]])}"
    done

    local -ir index="$((COMP_POINT - ${#COMP_LINE} + ${#remaining}))"
    if [[ "${index}" -le 0 ]]; then
        printf 0
    else
        printf %s "${index}"
    fi
}

# positional arguments:
#
# - 1: the current (sub)command's count of positional arguments
#
# required variables:
#
# - repeating_flags: the repeating flags that the current (sub)command can accept
# - non_repeating_flags: the non-repeating flags that the current (sub)command can accept
# - repeating_options: the repeating options that the current (sub)command can accept
# - non_repeating_options: the non-repeating options that the current (sub)command can accept
# - positional_number: value ignored
# - unparsed_words: unparsed words from the current command line
#
# modified variables:
#
# - non_repeating_flags: remove flags for this (sub)command that are already on the command line
# - non_repeating_options: remove options for this (sub)command that are already on the command line
# - positional_number: set to the current positional number
# - unparsed_words: remove all flags, options, and option values for this (sub)command
__task_offer_flags_options() {
    local -ir positional_count="${1}"
    positional_number=0

    local was_flag_option_terminator_seen=false
    local is_parsing_option_value=false

    local -ar unparsed_word_indices=("${!unparsed_words[@]}")
    local -i word_index
    for word_index in "${unparsed_word_indices[@]}"; do
        if "${is_parsing_option_value}"; then
            # This word is an option value:
            # Reset marker for next word iff not currently the last word
            [[ "${word_index}" -ne "${unparsed_word_indices[${#unparsed_word_indices[@]} - 1]}" ]] && is_parsing_option_value=false
            unset "unparsed_words[${word_index}]"
            # Do not process this word as a flag or an option
            continue
        fi

        local word="${unparsed_words["${word_index}"]}"
        if ! "${was_flag_option_terminator_seen}"; then
            case "${word}" in
            --)
                unset "unparsed_words[${word_index}]"
                # by itself -- is a flag/option terminator, but if it is the last word, it is the start of a completion
                if [[ "${word_index}" -ne "${unparsed_word_indices[${#unparsed_word_indices[@]} - 1]}" ]]; then
                    was_flag_option_terminator_seen=true
                fi
                continue
                ;;
            -*)
                # ${word} is a flag or an option
                # If ${word} is an option, mark that the next word to be parsed is an option value
                local option
                for option in "${repeating_options[@]}" "${non_repeating_options[@]}"; do
                    [[ "${word}" = "${option}" ]] && is_parsing_option_value=true && break
                done

                # Remove ${word} from ${non_repeating_flags} or ${non_repeating_options} so it isn't offered again
                local not_found=true
                local -i index
                for index in "${!non_repeating_flags[@]}"; do
                    if [[ "${non_repeating_flags[${index}]}" = "${word}" ]]; then
                        unset "non_repeating_flags[${index}]"
                        non_repeating_flags=("${non_repeating_flags[@]}")
                        not_found=false
                        break
                    fi
                done
                if "${not_found}"; then
                    for index in "${!non_repeating_flags[@]}"; do
                        if [[ "${non_repeating_flags[${index}]}" = "${word}" ]]; then
                            unset "non_repeating_flags[${index}]"
                            non_repeating_flags=("${non_repeating_flags[@]}")
                            break
                        fi
                    done
                fi
                unset "unparsed_words[${word_index}]"
                continue
                ;;
            esac
        fi

        # ${word} is neither a flag, nor an option, nor an option value
        if [[ "${positional_number}" -lt "${positional_count}" || "${positional_count}" -lt 0 ]]; then
            # ${word} is a positional
            ((positional_number++))
            unset "unparsed_words[${word_index}]"
        else
            if [[ -z "${word}" ]]; then
                # Could be completing a flag, option, or subcommand
                positional_number=-1
            else
                # ${word} is a subcommand or invalid, so stop processing this (sub)command
                positional_number=-2
            fi
            break
        fi
    done

    unparsed_words=("${unparsed_words[@]}")

    if\
        ! "${was_flag_option_terminator_seen}"\
        && ! "${is_parsing_option_value}"\
        && [[ ("${cur}" = -* && "${positional_number}" -ge 0) || "${positional_number}" -eq -1 ]]
    then
        COMPREPLY+=($(compgen -W "${repeating_flags[*]} ${non_repeating_flags[*]} ${repeating_options[*]} ${non_repeating_options[*]}" -- "${cur}"))
    fi
}

__task_add_completions() {
    local completion
    while IFS='' read -r completion; do
        COMPREPLY+=("${completion}")
    done < <(IFS=$'\n' compgen "${@}" -- "${cur}")
}

__task_custom_complete() {
    if [[ -n "${cur}" || -z ${COMP_WORDS[${COMP_CWORD}]} || "${COMP_LINE:${COMP_POINT}:1}" != ' ' ]]; then
        local -ar words=("${COMP_WORDS[@]}")
    else
        local -ar words=("${COMP_WORDS[@]::${COMP_CWORD}}" '' "${COMP_WORDS[@]:${COMP_CWORD}}")
    fi

    "${COMP_WORDS[0]}" "${@}" "${words[@]}"
}

_task() {
    local state
    state="$(shopt -p;shopt -po)"
    trap "${state//$'\n'/;}" RETURN
    shopt -s extglob
    set +o history +o posix

    local -xr SAP_SHELL=bash
    local -x SAP_SHELL_VERSION
    SAP_SHELL_VERSION="$(IFS='.';printf %s "${BASH_VERSINFO[*]}")"
    local -r SAP_SHELL_VERSION

    local -r cur="${2}"
    local -r prev="${3}"

    local -i positional_number
    local -a unparsed_words=("${COMP_WORDS[@]:1:${COMP_CWORD}}")

    local -a repeating_flags=()
    local -a non_repeating_flags=(--no-color --quiet -q --local --version -h --help)
    local -a repeating_options=()
    local -a non_repeating_options=(--db -c)
    __task_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--db')
        __task_add_completions -o plusdirs -fX '!*.@(db)'
        return
        ;;
    '-c')
        return
        ;;
    esac

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    new|list|show|edit|delete|run|send|keys|approve|deny|follow|attach|stop|done|retry|rewind|pull|transcript|diff|merge|pr|logs|events|sprite|project|config|set|history|prune|doctor|usage|search|quit|help)
        # Offer subcommand argument completions
        "_task_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'new list show edit delete run send keys approve deny follow attach stop done retry rewind pull transcript diff merge pr logs events sprite project config set history prune doctor usage search quit help' -- "${cur}"))
        ;;
    esac
}

_task_new() {
    repeating_flags=()
    non_repeating_flags=(--run --version -h --help)
    repeating_options=()
    non_repeating_options=(--prompt --prompt-file --project)
    __task_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--prompt')
        return
        ;;
    '--prompt-file')
        __task_add_completions -f
        return
        ;;
    '--project')
        __task_add_completions -W "$(__task_custom_complete ---completion new -- --project "${COMP_CWORD}" "$(__task_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_task_list() {
    repeating_flags=()
    non_repeating_flags=(--all --json --version -h --help)
    repeating_options=()
    non_repeating_options=(--status --project)
    __task_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--status')
        __task_add_completions -W 'backlog'$'\n''queued'$'\n''processing'$'\n''blocked'$'\n''done'$'\n''failed'$'\n''cancelled'
        return
        ;;
    '--project')
        __task_add_completions -W "$(__task_custom_complete ---completion list -- --project "${COMP_CWORD}" "$(__task_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_task_show() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=()
    __task_offer_flags_options 1

    # Offer positional completions
    case "${positional_number}" in
    1)
        __task_add_completions -W "$(__task_custom_complete ---completion show -- positional@0 "${COMP_CWORD}" "$(__task_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_task_edit() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--title --prompt --prompt-file --project)
    __task_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--title')
        return
        ;;
    '--prompt')
        return
        ;;
    '--prompt-file')
        __task_add_completions -f
        return
        ;;
    '--project')
        __task_add_completions -W "$(__task_custom_complete ---completion edit -- --project "${COMP_CWORD}" "$(__task_cursor_index_in_current_word)")"
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __task_add_completions -W "$(__task_custom_complete ---completion edit -- positional@0 "${COMP_CWORD}" "$(__task_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_task_delete() {
    repeating_flags=()
    non_repeating_flags=(--force --version -h --help)
    repeating_options=()
    non_repeating_options=()
    __task_offer_flags_options 1

    # Offer positional completions
    case "${positional_number}" in
    1)
        __task_add_completions -W "$(__task_custom_complete ---completion delete -- positional@0 "${COMP_CWORD}" "$(__task_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_task_run() {
    repeating_flags=()
    non_repeating_flags=(--pull --version -h --help)
    repeating_options=()
    non_repeating_options=(--sandbox)
    __task_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--sandbox')
        __task_add_completions -W 'local'$'\n''sprite'
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __task_add_completions -W "$(__task_custom_complete ---completion run -- positional@0 "${COMP_CWORD}" "$(__task_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_task_send() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--timeout)
    __task_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--timeout')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __task_add_completions -W "$(__task_custom_complete ---completion send -- positional@0 "${COMP_CWORD}" "$(__task_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_task_keys() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __task_offer_flags_options -1

    # Offer positional completions
    case "${positional_number}" in
    1)
        __task_add_completions -W "$(__task_custom_complete ---completion keys -- positional@0 "${COMP_CWORD}" "$(__task_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_task_approve() {
    repeating_flags=()
    non_repeating_flags=(--always --version -h --help)
    repeating_options=()
    non_repeating_options=()
    __task_offer_flags_options 1

    # Offer positional completions
    case "${positional_number}" in
    1)
        __task_add_completions -W "$(__task_custom_complete ---completion approve -- positional@0 "${COMP_CWORD}" "$(__task_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_task_deny() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __task_offer_flags_options 1

    # Offer positional completions
    case "${positional_number}" in
    1)
        __task_add_completions -W "$(__task_custom_complete ---completion deny -- positional@0 "${COMP_CWORD}" "$(__task_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_task_follow() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __task_offer_flags_options 1

    # Offer positional completions
    case "${positional_number}" in
    1)
        __task_add_completions -W "$(__task_custom_complete ---completion follow -- positional@0 "${COMP_CWORD}" "$(__task_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_task_attach() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __task_offer_flags_options 1

    # Offer positional completions
    case "${positional_number}" in
    1)
        __task_add_completions -W "$(__task_custom_complete ---completion attach -- positional@0 "${COMP_CWORD}" "$(__task_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_task_stop() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __task_offer_flags_options 1

    # Offer positional completions
    case "${positional_number}" in
    1)
        __task_add_completions -W "$(__task_custom_complete ---completion stop -- positional@0 "${COMP_CWORD}" "$(__task_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_task_done() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __task_offer_flags_options 1

    # Offer positional completions
    case "${positional_number}" in
    1)
        __task_add_completions -W "$(__task_custom_complete ---completion done -- positional@0 "${COMP_CWORD}" "$(__task_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_task_retry() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(-f --feedback)
    __task_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '-f'|'--feedback')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __task_add_completions -W "$(__task_custom_complete ---completion retry -- positional@0 "${COMP_CWORD}" "$(__task_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_task_rewind() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __task_offer_flags_options 1

    # Offer positional completions
    case "${positional_number}" in
    1)
        __task_add_completions -W "$(__task_custom_complete ---completion rewind -- positional@0 "${COMP_CWORD}" "$(__task_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_task_pull() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __task_offer_flags_options 1

    # Offer positional completions
    case "${positional_number}" in
    1)
        __task_add_completions -W "$(__task_custom_complete ---completion pull -- positional@0 "${COMP_CWORD}" "$(__task_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_task_transcript() {
    repeating_flags=()
    non_repeating_flags=(--json --follow --version -h --help)
    repeating_options=()
    non_repeating_options=()
    __task_offer_flags_options 1

    # Offer positional completions
    case "${positional_number}" in
    1)
        __task_add_completions -W "$(__task_custom_complete ---completion transcript -- positional@0 "${COMP_CWORD}" "$(__task_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_task_diff() {
    repeating_flags=()
    non_repeating_flags=(--stat --name-only --no-pager --version -h --help)
    repeating_options=()
    non_repeating_options=()
    __task_offer_flags_options 1

    # Offer positional completions
    case "${positional_number}" in
    1)
        __task_add_completions -W "$(__task_custom_complete ---completion diff -- positional@0 "${COMP_CWORD}" "$(__task_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_task_merge() {
    repeating_flags=()
    non_repeating_flags=(--squash --version -h --help)
    repeating_options=()
    non_repeating_options=()
    __task_offer_flags_options 1

    # Offer positional completions
    case "${positional_number}" in
    1)
        __task_add_completions -W "$(__task_custom_complete ---completion merge -- positional@0 "${COMP_CWORD}" "$(__task_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_task_pr() {
    repeating_flags=()
    non_repeating_flags=(--draft --version -h --help)
    repeating_options=()
    non_repeating_options=()
    __task_offer_flags_options 1

    # Offer positional completions
    case "${positional_number}" in
    1)
        __task_add_completions -W "$(__task_custom_complete ---completion pr -- positional@0 "${COMP_CWORD}" "$(__task_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_task_logs() {
    repeating_flags=()
    non_repeating_flags=(--follow --version -h --help)
    repeating_options=()
    non_repeating_options=()
    __task_offer_flags_options 1

    # Offer positional completions
    case "${positional_number}" in
    1)
        __task_add_completions -W "$(__task_custom_complete ---completion logs -- positional@0 "${COMP_CWORD}" "$(__task_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_task_events() {
    repeating_flags=()
    non_repeating_flags=(--json --follow --version -h --help)
    repeating_options=()
    non_repeating_options=(--limit --tail --since)
    __task_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--limit')
        return
        ;;
    '--tail')
        return
        ;;
    '--since')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __task_add_completions -W "$(__task_custom_complete ---completion events -- positional@0 "${COMP_CWORD}" "$(__task_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_task_sprite() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __task_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    status|up|down|attach|exec|checkpoints|checkpoint|restore|sessions|token|destroy)
        # Offer subcommand argument completions
        "_task_sprite_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'status up down attach exec checkpoints checkpoint restore sessions token destroy' -- "${cur}"))
        ;;
    esac
}

_task_sprite_status() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--sprite)
    __task_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--sprite')
        __task_add_completions -W "$(__task_custom_complete ---completion sprite status -- --sprite "${COMP_CWORD}" "$(__task_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_task_sprite_up() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--sprite)
    __task_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--sprite')
        __task_add_completions -W "$(__task_custom_complete ---completion sprite up -- --sprite "${COMP_CWORD}" "$(__task_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_task_sprite_down() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--sprite)
    __task_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--sprite')
        __task_add_completions -W "$(__task_custom_complete ---completion sprite down -- --sprite "${COMP_CWORD}" "$(__task_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_task_sprite_attach() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--sprite)
    __task_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--sprite')
        __task_add_completions -W "$(__task_custom_complete ---completion sprite attach -- --sprite "${COMP_CWORD}" "$(__task_cursor_index_in_current_word)")"
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __task_add_completions -W "$(__task_custom_complete ---completion sprite attach -- positional@0 "${COMP_CWORD}" "$(__task_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_task_sprite_exec() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--dir --sprite)
    __task_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--dir')
        return
        ;;
    '--sprite')
        __task_add_completions -W "$(__task_custom_complete ---completion sprite exec -- --sprite "${COMP_CWORD}" "$(__task_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_task_sprite_checkpoints() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--sprite)
    __task_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--sprite')
        __task_add_completions -W "$(__task_custom_complete ---completion sprite checkpoints -- --sprite "${COMP_CWORD}" "$(__task_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_task_sprite_checkpoint() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--sprite)
    __task_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--sprite')
        __task_add_completions -W "$(__task_custom_complete ---completion sprite checkpoint -- --sprite "${COMP_CWORD}" "$(__task_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_task_sprite_restore() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--sprite)
    __task_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--sprite')
        __task_add_completions -W "$(__task_custom_complete ---completion sprite restore -- --sprite "${COMP_CWORD}" "$(__task_cursor_index_in_current_word)")"
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __task_add_completions -W "$(__task_custom_complete ---completion sprite restore -- positional@0 "${COMP_CWORD}" "$(__task_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_task_sprite_sessions() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--sprite)
    __task_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--sprite')
        __task_add_completions -W "$(__task_custom_complete ---completion sprite sessions -- --sprite "${COMP_CWORD}" "$(__task_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_task_sprite_token() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __task_offer_flags_options 1
}

_task_sprite_destroy() {
    repeating_flags=()
    non_repeating_flags=(--force --version -h --help)
    repeating_options=()
    non_repeating_options=(--sprite)
    __task_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--sprite')
        __task_add_completions -W "$(__task_custom_complete ---completion sprite destroy -- --sprite "${COMP_CWORD}" "$(__task_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_task_project() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __task_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    add|list|remove)
        # Offer subcommand argument completions
        "_task_project_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'add list remove' -- "${cur}"))
        ;;
    esac
}

_task_project_add() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __task_offer_flags_options 2

    # Offer positional completions
    case "${positional_number}" in
    2)
        __task_add_completions -d
        return
        ;;
    esac
}

_task_project_list() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=()
    __task_offer_flags_options 0
}

_task_project_remove() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __task_offer_flags_options 1

    # Offer positional completions
    case "${positional_number}" in
    1)
        __task_add_completions -W "$(__task_custom_complete ---completion project remove -- positional@0 "${COMP_CWORD}" "$(__task_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_task_config() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __task_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    get|set|list)
        # Offer subcommand argument completions
        "_task_config_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'get set list' -- "${cur}"))
        ;;
    esac
}

_task_config_get() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __task_offer_flags_options 1

    # Offer positional completions
    case "${positional_number}" in
    1)
        __task_add_completions -W 'agent'$'\n''max_running'$'\n''permission_mode'$'\n''trust_workspace'$'\n''verbose'$'\n''agent_env'$'\n''start_timeout'$'\n''sprite.name'$'\n''sprite.pool'$'\n''sprite.tasks_per_sprite'$'\n''sprite.start_checkpoint'$'\n''sprite.fresh'$'\n''sprite.agent'$'\n''sprite.permission_mode'$'\n''max_cost_usd'$'\n''notify'$'\n''notify_on'$'\n''notify_command'
        return
        ;;
    esac
}

_task_config_set() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __task_offer_flags_options -1

    # Offer positional completions
    case "${positional_number}" in
    1)
        __task_add_completions -W 'agent'$'\n''max_running'$'\n''permission_mode'$'\n''trust_workspace'$'\n''verbose'$'\n''agent_env'$'\n''start_timeout'$'\n''sprite.name'$'\n''sprite.pool'$'\n''sprite.tasks_per_sprite'$'\n''sprite.start_checkpoint'$'\n''sprite.fresh'$'\n''sprite.agent'$'\n''sprite.permission_mode'$'\n''max_cost_usd'$'\n''notify'$'\n''notify_on'$'\n''notify_command'
        return
        ;;
    esac
}

_task_config_list() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=()
    __task_offer_flags_options 0
}

_task_set() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __task_offer_flags_options -1

    # Offer positional completions
    case "${positional_number}" in
    1)
        __task_add_completions -W 'agent'$'\n''max_running'$'\n''permission_mode'$'\n''trust_workspace'$'\n''verbose'$'\n''agent_env'$'\n''start_timeout'$'\n''sprite.name'$'\n''sprite.pool'$'\n''sprite.tasks_per_sprite'$'\n''sprite.start_checkpoint'$'\n''sprite.fresh'$'\n''sprite.agent'$'\n''sprite.permission_mode'$'\n''max_cost_usd'$'\n''notify'$'\n''notify_on'$'\n''notify_command'
        return
        ;;
    esac
}

_task_history() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--search)
    __task_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--search')
        return
        ;;
    esac
}

_task_prune() {
    repeating_flags=()
    non_repeating_flags=(--force --version -h --help)
    repeating_options=()
    non_repeating_options=(--before --task)
    __task_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--before')
        return
        ;;
    '--task')
        __task_add_completions -W "$(__task_custom_complete ---completion prune -- --task "${COMP_CWORD}" "$(__task_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_task_doctor() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=()
    __task_offer_flags_options 0
}

_task_usage() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--since)
    __task_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--since')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __task_add_completions -W "$(__task_custom_complete ---completion usage -- positional@0 "${COMP_CWORD}" "$(__task_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_task_search() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--task --limit)
    __task_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--task')
        __task_add_completions -W "$(__task_custom_complete ---completion search -- --task "${COMP_CWORD}" "$(__task_cursor_index_in_current_word)")"
        return
        ;;
    '--limit')
        return
        ;;
    esac
}

_task_quit() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __task_offer_flags_options 0
}

_task_help() {
    repeating_flags=()
    non_repeating_flags=(--version)
    repeating_options=()
    non_repeating_options=()
    __task_offer_flags_options -1
}

complete -o filenames -F _task task
