{# Amounts arrive in cents; dispatched so an adapter could divide its own way. #}
{% macro cents_to_dollars(column_name, scale=2) -%}
    {{ return(adapter.dispatch('cents_to_dollars')(column_name, scale)) }}
{%- endmacro %}

{% macro default__cents_to_dollars(column_name, scale) -%}
    round(({{ column_name }} / 100.0)::numeric, {{ scale }})
{%- endmacro %}

{% macro postgres__cents_to_dollars(column_name, scale) -%}
    ({{ column_name }}::numeric / 100)::numeric(16, {{ scale }})
{%- endmacro %}
