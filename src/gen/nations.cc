// Word lists and number formats per nationality, written for sluice (a small, fixed
// data set keeps output identical on every machine).
#include "gen/nations.h"

#include <string>

namespace sluice::gen {

const std::vector<nation>& nations() {
  static const std::vector<nation> all = {
      {"AU",
       "Australia",
       "0#-####-####",
       "04##-###-###",
       "####",
       "TFN",
       "#########",
       {"Jack", "Oliver", "William", "Noah", "Thomas", "James", "Lucas", "Henry", "Liam", "Ethan",
        "Cooper", "Lachlan", "Riley", "Mason", "Harrison", "Archie"},
       {"Charlotte", "Olivia", "Ava", "Mia", "Isla", "Amelia", "Chloe", "Grace", "Ruby", "Matilda",
        "Zoe", "Sienna", "Harper", "Willow", "Evie", "Ella"},
       {"Smith", "Jones", "Williams", "Brown", "Wilson", "Taylor", "Johnson", "White", "Martin",
        "Anderson", "Thompson", "Nguyen", "Walker", "Harris", "Ryan", "Kelly"},
       {"George Street", "Victoria Road", "Church Street", "Park Avenue", "King Street",
        "High Street", "Railway Parade", "Ocean View Road"},
       {{"Sydney", "New South Wales"},
        {"Melbourne", "Victoria"},
        {"Brisbane", "Queensland"},
        {"Perth", "Western Australia"},
        {"Adelaide", "South Australia"},
        {"Hobart", "Tasmania"},
        {"Darwin", "Northern Territory"},
        {"Canberra", "Australian Capital Territory"}}},
      {"BR",
       "Brazil",
       "(##) ####-####",
       "(##) #####-####",
       "#####-###",
       "CPF",
       "###.###.###-##",
       {"João", "Pedro", "Lucas", "Gabriel", "Matheus", "Rafael", "Gustavo", "Felipe", "Bruno",
        "Thiago", "Leonardo", "Caio", "Vinícius", "André", "Otávio", "Heitor"},
       {"Ana", "Maria", "Júlia", "Beatriz", "Larissa", "Camila", "Fernanda", "Letícia", "Mariana",
        "Gabriela", "Isabela", "Luana", "Lívia", "Sofia", "Alícia", "Débora"},
       {"Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira", "Lima",
        "Gomes", "Costa", "Ribeiro", "Martins", "Carvalho", "Araújo", "Rocha"},
       {"Rua São Jorge", "Avenida Brasil", "Rua das Flores", "Rua Sete de Setembro",
        "Avenida Paulista", "Rua XV de Novembro", "Rua da Paz", "Travessa do Comércio"},
       {{"São Paulo", "São Paulo"},
        {"Rio de Janeiro", "Rio de Janeiro"},
        {"Belo Horizonte", "Minas Gerais"},
        {"Salvador", "Bahia"},
        {"Curitiba", "Paraná"},
        {"Recife", "Pernambuco"},
        {"Fortaleza", "Ceará"},
        {"Porto Alegre", "Rio Grande do Sul"}}},
      {"CA",
       "Canada",
       "###-###-####",
       "###-###-####",
       "A#A #A#",
       "SIN",
       "### ### ###",
       {"Liam", "Noah", "Logan", "Benjamin", "Nathan", "Félix", "Samuel", "Jacob", "Owen", "Lucas",
        "Étienne", "Mathis", "Hunter", "Carter", "Dylan", "Tristan"},
       {"Emma", "Olivia", "Chloé", "Léa", "Charlotte", "Alice", "Florence", "Rosalie", "Maëlle",
        "Abigail", "Sophie", "Juliette", "Avery", "Madison", "Brooke", "Élodie"},
       {"Tremblay", "Gagnon", "Roy", "Côté", "Bouchard", "Gauthier", "Morin", "Lavoie", "Fortin",
        "Gagné", "Ouellet", "Pelletier", "Bélanger", "Lévesque", "Macdonald", "Wilson"},
       {"Main Street", "Rue Principale", "Maple Avenue", "King Street", "Yonge Street",
        "Rue Sainte-Catherine", "Lakeshore Road", "Dundas Street"},
       {{"Toronto", "Ontario"},
        {"Montréal", "Québec"},
        {"Vancouver", "British Columbia"},
        {"Calgary", "Alberta"},
        {"Ottawa", "Ontario"},
        {"Winnipeg", "Manitoba"},
        {"Halifax", "Nova Scotia"},
        {"Regina", "Saskatchewan"}}},
      {"DE",
       "Germany",
       "0###-#######",
       "017#-#######",
       "#####",
       "SVNR",
       "## ######A ###",
       {"Lukas", "Leon", "Finn", "Jonas", "Paul", "Felix", "Maximilian", "Elias", "Jürgen",
        "Tobias", "Matthias", "Sebastian", "Florian", "Jörg", "Dieter", "Uwe"},
       {"Mia", "Emma", "Hannah", "Sophie", "Lena", "Marie", "Lea", "Anna", "Jana", "Katrin",
        "Sabine", "Ursula", "Jutta", "Bärbel", "Zoë", "Lotte"},
       {"Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz",
        "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Krüger"},
       {"Hauptstraße", "Schulstraße", "Gartenstraße", "Bahnhofstraße", "Dorfstraße", "Bergstraße",
        "Lindenstraße", "Kirchweg"},
       {{"Berlin", "Berlin"},
        {"Hamburg", "Hamburg"},
        {"München", "Bayern"},
        {"Köln", "Nordrhein-Westfalen"},
        {"Frankfurt am Main", "Hessen"},
        {"Stuttgart", "Baden-Württemberg"},
        {"Leipzig", "Sachsen"},
        {"Dresden", "Sachsen"}}},
      {"ES",
       "Spain",
       "9##-###-###",
       "6##-###-###",
       "#####",
       "DNI",
       "########-A",
       {"Hugo", "Martín", "Lucas", "Mateo", "Leo", "Daniel", "Alejandro", "Pablo", "Manuel",
        "Álvaro", "Adrián", "David", "Mario", "Enrique", "Iñigo", "Joaquín"},
       {"Lucía", "Sofía", "Martina", "María", "Julia", "Paula", "Valeria", "Emma", "Daniela",
        "Carla", "Alba", "Noa", "Irene", "Nuria", "Begoña", "Pilar"},
       {"García", "Rodríguez", "González", "Fernández", "López", "Martínez", "Sánchez", "Pérez",
        "Gómez", "Martín", "Jiménez", "Ruiz", "Hernández", "Díaz", "Moreno", "Muñoz"},
       {"Calle Mayor", "Calle del Sol", "Avenida de la Constitución", "Calle Real",
        "Paseo de Gracia", "Calle de Alcalá", "Gran Vía", "Calle Nueva"},
       {{"Madrid", "Comunidad de Madrid"},
        {"Barcelona", "Cataluña"},
        {"Valencia", "Comunidad Valenciana"},
        {"Sevilla", "Andalucía"},
        {"Zaragoza", "Aragón"},
        {"Málaga", "Andalucía"},
        {"Bilbao", "País Vasco"},
        {"Murcia", "Región de Murcia"}}},
      {"FR",
       "France",
       "0#-##-##-##-##",
       "06-##-##-##-##",
       "#####",
       "INSEE",
       "# ## ## ##### ### ##",
       {"Gabriel", "Louis", "Raphaël", "Jules", "Adam", "Lucas", "Léo", "Hugo", "Arthur", "Nathan",
        "Théo", "Noé", "Éric", "Mathéo", "Clément", "Benoît"},
       {"Jade", "Louise", "Emma", "Alice", "Chloé", "Lina", "Léa", "Manon", "Inès", "Camille",
        "Zoé", "Anaïs", "Océane", "Mélanie", "Hélène", "Margaux"},
       {"Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
        "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "Rousseau"},
       {"Rue de la Paix", "Rue Victor Hugo", "Avenue Jean-Jaurès", "Rue Pasteur",
        "Boulevard Voltaire", "Rue de l'Église", "Place du Marché", "Rue des Écoles"},
       {{"Paris", "Île-de-France"},
        {"Marseille", "Provence-Alpes-Côte d'Azur"},
        {"Lyon", "Auvergne-Rhône-Alpes"},
        {"Toulouse", "Occitanie"},
        {"Nice", "Provence-Alpes-Côte d'Azur"},
        {"Nantes", "Pays de la Loire"},
        {"Strasbourg", "Grand Est"},
        {"Bordeaux", "Nouvelle-Aquitaine"}}},
      {"GB",
       "United Kingdom",
       "0##-####-####",
       "07###-######",
       "AA# #AA",
       "NINO",
       "AA ## ## ## A",
       {"Oliver", "George", "Harry", "Jack", "Charlie", "Jacob", "Alfie", "Freddie", "Oscar",
        "Archie", "Arthur", "Theo", "Rory", "Callum", "Hamish", "Owain"},
       {"Olivia", "Amelia", "Isla", "Ava", "Emily", "Sophia", "Poppy", "Isabella", "Jessica",
        "Lily", "Freya", "Florence", "Imogen", "Niamh", "Siobhan", "Rhiannon"},
       {"Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson",
        "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "O'Brien"},
       {"High Street", "Station Road", "Main Street", "Park Road", "Church Road", "London Road",
        "Victoria Road", "Green Lane"},
       {{"London", "Greater London"},
        {"Manchester", "Greater Manchester"},
        {"Birmingham", "West Midlands"},
        {"Leeds", "West Yorkshire"},
        {"Glasgow", "Scotland"},
        {"Cardiff", "Wales"},
        {"Bristol", "South West"},
        {"Belfast", "Northern Ireland"}}},
      {"US",
       "United States",
       "(###) ###-####",
       "(###) ###-####",
       "#####",
       "SSN",
       "###-##-####",
       {"James", "John", "Robert", "Michael", "William", "David", "Richard", "Joseph", "Thomas",
        "Charles", "Daniel", "Matthew", "Anthony", "Mark", "Steven", "Andrew"},
       {"Mary", "Patricia", "Jennifer", "Linda", "Elizabeth", "Barbara", "Susan", "Jessica",
        "Sarah", "Karen", "Nancy", "Lisa", "Betty", "Ashley", "Kimberly", "Emily"},
       {"Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson",
        "Taylor", "Thomas", "Moore", "Jackson", "Martin", "Lee", "Harris"},
       {"Main St", "Oak St", "Pine St", "Maple Ave", "Cedar St", "Elm St", "Washington Ave",
        "Lake St"},
       {{"New York", "New York"},
        {"Los Angeles", "California"},
        {"Chicago", "Illinois"},
        {"Houston", "Texas"},
        {"Phoenix", "Arizona"},
        {"Philadelphia", "Pennsylvania"},
        {"Seattle", "Washington"},
        {"Denver", "Colorado"}}},
      {"IE",
       "Ireland",
       "0#-###-####",
       "08#-###-####",
       "A## AAAA",
       "PPS",
       "#######A",
       {"Jack", "James", "Noah", "Conor", "Darragh", "Seán", "Oisín", "Cian", "Fionn", "Liam",
        "Patrick", "Ciarán", "Tadhg", "Eoin", "Rónán", "Colm"},
       {"Emily", "Grace", "Fiadh", "Sophie", "Hannah", "Aoife", "Saoirse", "Ciara", "Niamh",
        "Róisín", "Caoimhe", "Clodagh", "Méabh", "Orla", "Sinéad", "Áine"},
       {"Murphy", "Kelly", "O'Sullivan", "Walsh", "Smith", "O'Brien", "Byrne", "Ryan", "O'Connor",
        "O'Neill", "Reilly", "Doyle", "McCarthy", "Gallagher", "Doherty", "Kennedy"},
       {"Main Street", "Church Street", "Bridge Street", "O'Connell Street", "Mill Road",
        "Castle Street", "Strand Road", "Patrick Street"},
       {{"Dublin", "Leinster"},
        {"Cork", "Munster"},
        {"Galway", "Connacht"},
        {"Limerick", "Munster"},
        {"Waterford", "Munster"},
        {"Kilkenny", "Leinster"},
        {"Sligo", "Connacht"},
        {"Letterkenny", "Ulster"}}},
      {"NL",
       "Netherlands",
       "(0##) #######",
       "(06) ########",
       "#### AA",
       "BSN",
       "########",
       {"Daan", "Sem", "Lucas", "Levi", "Finn", "Milan", "Bram", "Thijs", "Jesse", "Ruben", "Sven",
        "Joris", "Maarten", "Wouter", "Sjoerd", "Gijs"},
       {"Emma", "Julia", "Sophie", "Tess", "Zoë", "Sara", "Anna", "Fleur", "Lotte", "Sanne",
        "Femke", "Eva", "Noor", "Isa", "Lieke", "Mirthe"},
       {"de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Janssen", "Visser",
        "Smit", "Meijer", "de Boer", "Mulder", "de Groot", "Bos", "Vos", "Peters"},
       {"Kerkstraat", "Schoolstraat", "Molenweg", "Dorpsstraat", "Stationsweg", "Julianastraat",
        "Beatrixlaan", "Prinsengracht"},
       {{"Amsterdam", "Noord-Holland"},
        {"Rotterdam", "Zuid-Holland"},
        {"Den Haag", "Zuid-Holland"},
        {"Utrecht", "Utrecht"},
        {"Eindhoven", "Noord-Brabant"},
        {"Groningen", "Groningen"},
        {"Tilburg", "Noord-Brabant"},
        {"Almere", "Flevoland"}}},
  };
  return all;
}

std::string ascii_fold(std::string_view utf8) {
  // Two-byte Latin-1 supplement letters (U+00C0..U+00FF) and a few Latin Extended-A
  // letters folded to ASCII; anything else outside ASCII is dropped.
  static constexpr std::string_view latin1 =
      "aaaaaaaceeeeiiiidnooooo*ouuuuyts"   // U+00C0..U+00DF (lower-cased)
      "aaaaaaaceeeeiiiidnooooo/ouuuuyty";  // U+00E0..U+00FF
  std::string out;
  out.reserve(utf8.size());
  for (std::size_t i = 0; i < utf8.size(); ++i) {
    auto c = static_cast<unsigned char>(utf8[i]);
    if (c < 0x80) {
      if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
        out.push_back(static_cast<char>(c));
      } else if (c >= 'A' && c <= 'Z') {
        out.push_back(static_cast<char>(c - 'A' + 'a'));
      } else if (c == ' ' || c == '-') {
        out.push_back(' ');
      }
      continue;
    }
    if (i + 1 >= utf8.size()) break;
    auto next = static_cast<unsigned char>(utf8[i + 1]);
    std::uint32_t cp = ((c & 0x1F) << 6) | (next & 0x3F);
    ++i;
    if (cp == 0xDF) {
      out += "ss";
    } else if (cp >= 0xC0 && cp <= 0xFF) {
      char folded = latin1[cp - 0xC0];
      if (folded != '*' && folded != '/') out.push_back(folded);
    } else if (cp >= 0x100 && cp <= 0x17F) {
      static constexpr std::string_view ext =
          "aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiiijjjjkkklllllllllln"
          "nnnnnnnnoooooooorrrrrrsssssssstttttuuuuuuuuuuuuwwyyyzzzzzzs";
      if (cp - 0x100 < ext.size()) out.push_back(ext[cp - 0x100]);
    } else if (c >= 0xE0) {
      // Three- or four-byte sequences: skip the rest of the character.
      i += (c >= 0xF0) ? 2 : 1;
    }
  }
  return out;
}

}  // namespace sluice::gen
