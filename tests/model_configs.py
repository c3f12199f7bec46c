"""config.json contents the tests upload, read or corrupt."""

from __future__ import annotations

LLAMA3_8B = {  # meta-llama/Meta-Llama-3-8B config.json
    "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 4096,
    "intermediate_size": 14336, "num_attention_heads": 32, "num_hidden_layers": 32,
    "num_key_value_heads": 8, "vocab_size": 128256, "max_position_embeddings": 8192,
    "rope_theta": 500000.0, "tie_word_embeddings": False,
}
# The fields that give its shape, as whole numbers.
LLAMA3_8B_SHAPE_FIELDS = ("hidden_size", "intermediate_size", "num_attention_heads",
                          "num_hidden_layers", "num_key_value_heads", "vocab_size",
                          "max_position_embeddings")
